#include "tokenizer/shared_words.h"

#include <cstring>
#include <new>

namespace tokalign::tok {

void SharedCompactWords::join() {
  if (threads_.fetch_add(1, std::memory_order_relaxed) != 1) return;
  // The second thread: makes the table, then publishes it. (A third joining meanwhile sees
  // in_use() false and encodes alone until then.)
  entries_.reset(static_cast<CompactHotWord*>(std::malloc(kSlots * sizeof(CompactHotWord))));
  if (!entries_) throw std::bad_alloc();
  state_ = std::vector<std::atomic<uint8_t>>(kSlots);
  ready_.store(true, std::memory_order_release);
}

bool SharedCompactWords::find(uint64_t k0, uint64_t k1, CompactHotWord& out) const {
  size_t i = slot_of(k0, k1);
  for (size_t p = 0; p < kProbes; ++p, i = (i + 1) & (kSlots - 1)) {
    const uint8_t s = state_[i].load(std::memory_order_acquire);
    if (s == kEmpty) return false;  // words are never removed: the word's probe ends here
    if (s != kReady) continue;
    const CompactHotWord& e = entries_.get()[i];
    if (e.k0 == k0 && e.k1 == k1) {
      std::memcpy(static_cast<void*>(&out), &e, sizeof e);
      return true;
    }
  }
  return false;
}

void SharedCompactWords::add(const CompactHotWord& e) {
  size_t i = slot_of(e.k0, e.k1);
  for (size_t p = 0; p < kProbes; ++p, i = (i + 1) & (kSlots - 1)) {
    uint8_t s = state_[i].load(std::memory_order_acquire);
    if (s == kEmpty) {
      if (state_[i].compare_exchange_strong(s, kWriting, std::memory_order_acquire)) {
        CompactHotWord& slot = entries_.get()[i];
        std::memcpy(static_cast<void*>(&slot), &e, sizeof e);
        slot.n &= 0x7F;  // bit 7 is a thread's own table's replacement choice
        state_[i].store(kReady, std::memory_order_release);
        return;
      }
      // Another thread took the slot first: s holds what it saw.
    }
    if (s == kReady) {
      const CompactHotWord& x = entries_.get()[i];
      if (x.k0 == e.k0 && x.k1 == e.k1) return;
    }
  }
}

size_t SharedCompactWords::words() const {
  if (!in_use()) return 0;
  size_t n = 0;
  for (const auto& s : state_) n += s.load(std::memory_order_acquire) == kReady;
  return n;
}

}  // namespace tokalign::tok
