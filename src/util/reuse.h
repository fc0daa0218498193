// Vectors of elements that own heap storage (strings, messages, image slots) in a thread's
// working state, reused from record to record: an element dropped when the vector shrinks
// waits in `spare` with its storage, and growing takes it back before making a new one. A
// compile worker then allocates only when a string needs more room than it has had; cutting
// a vector of strings and growing it again freed and allocated each string (some nine heap
// allocations a LLaVA sample, which the threads' allocator arenas then shared).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace tokalign {

// Appends an element to v: a spare one, still holding what it held (the caller sets every
// field), or a new one.
template <class T>
T& grow_one(std::vector<T>& v, std::vector<T>& spare) {
  if (spare.empty()) return v.emplace_back();
  v.push_back(std::move(spare.back()));
  spare.pop_back();
  return v.back();
}

// Cuts v to n elements (n <= v.size()), the dropped ones kept in spare.
template <class T>
void shrink_to(std::vector<T>& v, size_t n, std::vector<T>& spare) {
  while (v.size() > n) {
    spare.push_back(std::move(v.back()));
    v.pop_back();
  }
}

// to = from, element by element: a string's copy assignment writes into the storage it has
// when that is enough (a message or an image slot assigns its strings so).
template <class T>
void assign_reusing(std::vector<T>& to, const std::vector<T>& from, std::vector<T>& spare) {
  shrink_to(to, std::min(to.size(), from.size()), spare);
  for (size_t i = 0; i < from.size(); ++i) {
    if (i == to.size()) grow_one(to, spare);
    to[i] = from[i];
  }
}

}  // namespace tokalign
