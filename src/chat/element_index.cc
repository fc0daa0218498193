#include "chat/element_index.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "chat/json_masks.h"

namespace tokalign::chat {

ElementIndex::ElementIndex(const char* text, size_t size, size_t from, Options options)
    : text_(text), size_(size), from_(std::min(from, size)), options_(options) {
  options_.chunk = std::max<size_t>(options_.chunk, 1);
  options_.threads = std::max<size_t>(options_.threads, 1);
  if (options_.ahead == 0) options_.ahead = std::max<size_t>(8, 4 * options_.threads);
  chunks_ = (size_ - from_ + options_.chunk - 1) / options_.chunk;
  slots_.resize(std::min(options_.ahead, std::max<size_t>(chunks_, 1)));
  options_.ahead = slots_.size();
  const size_t helpers = std::min(options_.threads, chunks_);
  helpers_.reserve(helpers);
  for (size_t t = 0; t < helpers; ++t) helpers_.emplace_back([this] { help(); });
}

ElementIndex::~ElementIndex() { stop(); }

void ElementIndex::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  helpers_cv_.notify_all();
  for (std::thread& t : helpers_) t.join();
  helpers_.clear();
}

// Chunk k starts at the first byte from `from` + k chunks on that follows a byte other than a
// backslash: whatever the backslashes before it, none escapes the chunk's first byte.
size_t ElementIndex::start_of(size_t k) const {
  if (k == 0) return from_;
  if (k >= chunks_) return size_;
  size_t at = from_ + k * options_.chunk;
  while (at < size_ && text_[at - 1] == '\\') ++at;
  return at;
}

void ElementIndex::help() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // (a slot is free again once the reader has taken the chunk ahead chunks before)
    helpers_cv_.wait(lock, [&] { return stopped_ || next_chunk_ >= chunks_ || next_chunk_ < taken_ + options_.ahead; });
    if (stopped_ || next_chunk_ >= chunks_) return;
    const size_t k = next_chunk_++;
    Chunk& c = slots_[k % options_.ahead];
    lock.unlock();
    scan(k, c);
    lock.lock();
    c.ready = true;
    if (k == taken_) reader_cv_.notify_one();
  }
}

void ElementIndex::scan(size_t k, Chunk& c) const {
  static const bool wide = masks::have_avx2();
  const size_t begin = start_of(k), end = start_of(k + 1);
  if (wide && options_.avx2) scan_avx2(text_, begin, end, c);
  else scan_sse2(text_, begin, end, c);
}

// Both scans of text[begin, end) at once, 64 bytes a step (the last block padded with zero
// bytes, which are none of the bytes looked for). Which bytes are in strings is one prefix XOR
// for both: the scan from inside a string has its complement.
template <class M>
void ElementIndex::scan_with(const char* text, size_t begin, size_t end, Chunk& c) {
  for (Scan& s : c.from) {
    s.decided = true;
    s.kept.clear();
  }
  int64_t nesting[2] = {0, 0};
  int64_t lowest[2] = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()};
  bool outside_in_string = false;  // at the block's start, for the scan from outside a string
  bool carry = false;              // the block's first byte is escaped
  uint64_t newlines = 0;
  alignas(64) char tail[64];
  for (size_t i = begin; i < end; i += 64) {
    const char* p = text + i;
    if (end - i < 64) {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, p, end - i);
      p = tail;
    }
    const masks::Block m = M::load(p);
    const uint64_t flips = M::prefix_xor(m.quotes & ~masks::escaped_bytes(m.backslashes, carry));
    const uint64_t in_outside = outside_in_string ? ~flips : flips;
    for (int h = 0; h < 2; ++h) {
      Scan& s = c.from[h];
      if (!s.decided) continue;
      const uint64_t in = h == 0 ? in_outside : ~in_outside;
      if (m.backslashes & ~in) {
        s.decided = false;
        s.kept.clear();
        continue;
      }
      int64_t& depth = nesting[h];
      for (uint64_t bits = m.structural & ~in; bits != 0; bits &= bits - 1) {
        const unsigned k = static_cast<unsigned>(__builtin_ctzll(bits));
        const char ch = static_cast<char>(p[k] | 0x20);  // '[' and ']' as '{' and '}'
        if (ch == '{') {
          ++depth;
          continue;
        }
        if (depth <= lowest[h]) {
          lowest[h] = depth;
          s.kept.push_back(Kept{i + k, depth, newlines + static_cast<uint64_t>(__builtin_popcountll(m.newlines & ((uint64_t{1} << k) - 1))),
                                ch == '}'});
        }
        if (ch == '}') --depth;
      }
    }
    newlines += static_cast<uint64_t>(__builtin_popcountll(m.newlines));
    outside_in_string = (in_outside >> 63) != 0;
    if (!c.from[0].decided && !c.from[1].decided) break;  // (the reader stops at this chunk)
  }
  c.newlines = newlines;
  for (int h = 0; h < 2; ++h) {
    c.from[h].nesting = nesting[h];
    c.from[h].ends_in_string = outside_in_string != (h == 1);
  }
}

// (flatten: the masks' loads inline, in the instruction set the function is compiled for)
[[gnu::flatten]] void ElementIndex::scan_sse2(const char* text, size_t begin, size_t end, Chunk& c) {
#if defined(__SSE2__)
  scan_with<masks::Sse2>(text, begin, end, c);
#else
  // (no SSE2: every chunk undecided, the reader scans alone)
  (void)text, (void)begin, (void)end;
  c.from[0].decided = c.from[1].decided = false;
#endif
}

#if defined(__x86_64__)
[[gnu::target("avx2,pclmul,popcnt"), gnu::flatten]] void ElementIndex::scan_avx2(const char* text, size_t begin, size_t end,
                                                                                   Chunk& c) {
  scan_with<masks::Avx2>(text, begin, end, c);
}
#else
void ElementIndex::scan_avx2(const char* text, size_t begin, size_t end, Chunk& c) { scan_sse2(text, begin, end, c); }
#endif

bool ElementIndex::take() {
  if (done_ || taken_ >= chunks_) {
    if (!done_) stop();
    done_ = true;
    return false;
  }
  Chunk* c = nullptr;
  {
    std::unique_lock<std::mutex> lock(mu_);
    c = &slots_[taken_ % options_.ahead];
    reader_cv_.wait(lock, [&] { return c->ready; });
  }
  const Scan& s = c->from[in_string_ ? 1 : 0];
  if (!s.decided) {
    done_ = true;
    stop();
    return false;
  }
  for (const Kept& k : s.kept) {
    if (nesting_ + k.nesting != 1) continue;
    ends_.push_back(End{k.offset, newlines_ + k.newlines});
    if (k.closer) {  // the array's own end: no boundary follows
      done_ = true;
      break;
    }
  }
  nesting_ += s.nesting;
  in_string_ = s.ends_in_string;
  newlines_ += c->newlines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c->ready = false;
    ++taken_;
  }
  helpers_cv_.notify_one();
  if (done_) stop();
  return true;
}

bool ElementIndex::next(size_t at, End& end) {
  for (;;) {
    while (head_ < ends_.size() && ends_[head_].offset < at) ++head_;
    if (head_ < ends_.size()) {
      end = ends_[head_];
      return true;
    }
    ends_.clear();
    head_ = 0;
    if (!take()) return false;
  }
}

}  // namespace tokalign::chat
