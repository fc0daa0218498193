#include "chat/record_stream.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "chat/element_index.h"
#include "chat/json_masks.h"
#include "util/error.h"
#include "util/checksum.h"

namespace tokalign::chat {

namespace {
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// The first '"' or '\\' in p[i, n), else n: one pass, 16 bytes a step (two memchr calls
// scanned a string's text twice, and restarted at every escape).
// '\n' bytes in p[0, n): per 16 bytes, byte-wide counts (up to 255 steps), then summed
// (the plain loop vectorized to 64-bit lanes and took as long as the record scan).
uint64_t count_newlines(const char* p, size_t n) {
  uint64_t total = 0;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
  while (i + 16 <= n) {
    __m128i counts = zero;
    for (size_t steps = 0; steps < 255 && i + 16 <= n; ++steps, i += 16)
      counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), nl));
    const __m128i sums = _mm_sad_epu8(counts, zero);
    total += static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) + static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < n; ++i) total += p[i] == '\n';
  return total;
}

// Bits of the 16 bytes at p that are '"', '{', '}', '[', ']' or ',' (p[0] at bit 0): '[' and ']'
// are '{' and '}' with bit 5 clear.
unsigned structural_mask(const char* p) {
#if defined(__SSE2__)
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i y = _mm_or_si128(x, _mm_set1_epi8(0x20));
  const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(y, _mm_set1_epi8('{')), _mm_cmpeq_epi8(y, _mm_set1_epi8('}'))),
                                   _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8(','))));
  return static_cast<unsigned>(_mm_movemask_epi8(hit));
#else
  unsigned m = 0;
  for (int k = 0; k < 16; ++k) {
    const char c = static_cast<char>(p[k] | 0x20);
    m |= static_cast<unsigned>(c == '{' || c == '}' || p[k] == '"' || p[k] == ',') << k;
  }
  return m;
#endif
}

size_t find_quote_or_backslash(const char* p, size_t i, size_t n) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
    if (m) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
#endif
  for (; i < n; ++i)
    if (p[i] == '"' || p[i] == '\\') return i;
  return n;
}
}  // namespace

// A mapped file that another program shortens under the mapping (truncates or rewrites it):
// reading a page past its new end raises SIGBUS, which would end the process with "Bus error"
// and nothing more. The handler says which file and where, and ends the process (the run's
// output is not committed: rerunning the command resumes or starts over, compile.md).
// One mapping at a time (compile reads one input); a RecordStream that finds the slot taken
// reads instead.
namespace {
struct MappedInput {
  std::atomic<const char*> begin{nullptr};
  std::atomic<size_t> size{0};  // 0 until the file is mapped
  std::string message;  // up to the byte offset, which the handler appends
};
std::atomic<MappedInput*> g_mapped{nullptr};
struct sigaction g_previous_sigbus;

// Async-signal-safe: write(2) and _exit only.
void on_sigbus(int, siginfo_t* info, void*) {
  const MappedInput* m = g_mapped.load(std::memory_order_acquire);
  const char* at = static_cast<const char*>(info->si_addr);
  const char* begin = m ? m->begin.load() : nullptr;
  if (m && at >= begin && at < begin + m->size.load()) {
    char digits[24];
    size_t n = 0;
    for (uint64_t v = static_cast<uint64_t>(at - begin); n == 0 || v; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
    char line[32];
    size_t k = 0;
    while (n) line[k++] = digits[--n];
    line[k++] = ')';
    line[k++] = '\n';
    (void)!::write(STDERR_FILENO, m->message.data(), m->message.size());
    (void)!::write(STDERR_FILENO, line, k);
    ::_exit(1);
  }
  // Not a mapped input's page: the signal's previous handling, when the access faults again.
  ::sigaction(SIGBUS, &g_previous_sigbus, nullptr);
}
}  // namespace

RecordStream::RecordStream(FILE* f, std::string name, Options options)
    : f_(f), name_(std::move(name)), options_(options) {
  options_.chunk = std::max<size_t>(options_.chunk, 1);
  if (options_.map) map_file();
}

RecordStream::~RecordStream() {
  element_index_.reset();  // (its helpers read the mapping)
  if (!map_) return;
  MappedInput* m = g_mapped.exchange(nullptr, std::memory_order_acq_rel);
  ::munmap(const_cast<char*>(map_), cap_);
  delete m;
}

void RecordStream::map_file() {
  struct stat st;
  const int fd = ::fileno(f_);
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return;
  if (::ftello(f_) != 0) return;  // (read from its start only)
  const size_t size = static_cast<size_t>(st.st_size);
  auto m = std::make_unique<MappedInput>();
  m->message = "tokalign: " + name_ +
               ": the file became shorter while it was read (truncated or rewritten by another program); stopped "
               "before this run's output was committed (at byte ";
  MappedInput* none = nullptr;
  if (!g_mapped.compare_exchange_strong(none, m.get(), std::memory_order_acq_rel)) return;  // another stream's
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  struct sigaction previous {};
  void* p = ::sigaction(SIGBUS, &sa, &previous) == 0
                ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0)
                : MAP_FAILED;
  if (p == MAP_FAILED) {
    g_mapped.store(nullptr, std::memory_order_release);
    return;  // (the handler stays: it passes on what is not a mapping's)
  }
  if (!((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction == on_sigbus)) g_previous_sigbus = previous;
  ::madvise(p, size, MADV_SEQUENTIAL);
  map_ = static_cast<const char*>(p);
  m->begin = map_;
  m->size = size;
  m.release();  // (g_mapped's, deleted by the destructor)
  data_ = map_;
  cap_ = size;
}

bool RecordStream::fill() {
  if (eof_) return false;
  if (map_) {
    // The mapped file: a chunk more of it becomes the buffer's (hashed as a read would be).
    const size_t n = std::min(options_.chunk, cap_ - size_);
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (options_.hash) options_.hash->update(std::string_view(data_ + size_, n));
    size_ += n;
    // Pages well behind the record being scanned are let go by the process (they stay in
    // the page cache; one touched again is read again): its memory does not grow with the file.
    const size_t keep_from = hold_ ? std::min<uint64_t>(pos_, released_.load(std::memory_order_acquire)) : pos_;
    const size_t drop = keep_from & ~(kDropUnit - 1);
    if (drop >= dropped_ + kDropUnit) {
      ::madvise(const_cast<char*>(map_) + dropped_, drop - dropped_, MADV_DONTNEED);
      dropped_ = drop;
    }
    return true;
  }
  // Room for a chunk: where it is short, the bytes before pos_ (consumed) are dropped first, so
  // that only the part of a record being scanned moves; the buffer grows only for a record
  // longer than a chunk. Nothing is zero-filled first.
  const size_t chunk = options_.chunk;
  if (cap_ - size_ < chunk && pos_ > 0) {
    std::memmove(owned_.get(), data_ + pos_, size_ - pos_);
    size_ -= pos_;
    base_ += pos_;
    pos_ = 0;
  }
  if (cap_ - size_ < chunk) {
    const size_t cap = std::max(2 * cap_, size_ + chunk);
    std::unique_ptr<char[]> grown(new char[cap]);
    if (size_) std::memcpy(grown.get(), data_, size_);
    owned_ = std::move(grown);
    data_ = owned_.get();
    cap_ = cap;
  }
  const size_t n = std::fread(owned_.get() + size_, 1, chunk, f_);
  if (options_.hash && n) options_.hash->update(std::string_view(data_ + size_, n));
  size_ += n;
  if (n == 0) {
    if (std::ferror(f_)) throw Error(name_ + ": read error: " + std::strerror(errno));
    eof_ = true;
    return false;
  }
  return true;
}

uint64_t RecordStream::read_to_end() {
  element_index_.reset();
  pos_ = size_;  // what is read from here on is only hashed and counted: it need not stay
  while (fill()) pos_ = size_;
  mode_ = Mode::done;
  return base_ + size_;
}

void RecordStream::fail(const std::string& what, size_t at) const {
  uint64_t line = line_;
  for (size_t i = pos_; i < at && i < size_; ++i) line += data_[i] == '\n';
  throw Error(name_ + ": " + what + " at byte " + std::to_string(abs(at)) + " (line " + std::to_string(line) + ")");
}

void RecordStream::set_pos(SourcePos& pos, uint64_t line, uint64_t offset) {
  if (pos.file != name_) pos.file = name_;  // (a long name is not copied anew for every record)
  pos.line = line;
  pos.byte_offset = offset;
  pos.index = index_++;
}

void RecordStream::advance_to(size_t i) {
  line_ += count_newlines(data_ + pos_, i - pos_);
  pos_ = i;
}

bool RecordStream::skip_space() {
  for (;;) {
    while (pos_ < size_ && is_space(data_[pos_])) advance_to(pos_ + 1);
    if (pos_ < size_) return true;
    if (!fill()) return false;
  }
}

bool RecordStream::next(std::string_view& record, SourcePos& pos) {
  if (mode_ == Mode::unknown) {
    // Skip a UTF-8 byte order mark, then look at the first character.
    while (size_ < 3 && fill()) {
    }
    if (buf().substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (!skip_space()) {
      mode_ = Mode::done;
      return false;
    }
    if (data_[pos_] == '[') {
      mode_ = Mode::array;
      advance_to(pos_ + 1);
      if (map_ && options_.index_threads > 0 && options_.scan != Scan::bytewise) {
        ElementIndex::Options io;
        io.threads = options_.index_threads;
        io.chunk = options_.index_chunk;
        io.avx2 = options_.scan == Scan::widest;
        element_index_ = std::make_unique<ElementIndex>(map_, cap_, pos_, io);
        index_line_ = line_;
      }
    } else {
      mode_ = Mode::lines;
    }
  }
  if (mode_ == Mode::done) return false;
  return mode_ == Mode::array ? next_array(record, pos) : next_line(record, pos);
}

bool RecordStream::next_line(std::string_view& record, SourcePos& pos) {
  for (;;) {
    size_t nl;
    for (;;) {
      nl = buf().find('\n', pos_);
      if (nl != std::string::npos || !fill()) break;
    }
    const size_t end = nl == std::string::npos ? size_ : nl;
    if (end == pos_ && nl == std::string::npos) {
      mode_ = Mode::done;
      return false;
    }
    size_t a = pos_, b = end;
    while (a < b && is_space(data_[a])) ++a;
    while (b > a && is_space(data_[b - 1])) --b;
    const uint64_t line = line_;
    if (nl == std::string::npos) {
      pos_ = end;
    } else {
      pos_ = nl + 1;
      ++line_;
    }
    if (a == b) continue;  // blank line
    record = buf().substr(a, b - a);
    set_pos(pos, line, abs(a));
    return true;
  }
}

// The scan of one array element: where it started, the next byte to look at, and the state
// at that byte.
struct RecordStream::ScanState {
  size_t start = 0, i = 0;
  int depth = 0;           // nesting outside strings
  bool in_string = false;
  bool escaped = false;    // data_[i] is escaped (by a backslash in a string just before it)
  uint64_t newlines = 0;   // in [start, i), counted by the block scan (not by scan_bytes)
  // A char outside strings (a bracket or a comma; others change nothing): nesting; true where
  // the element ends (a comma at depth 0, or the array's own ']').
  bool ends_at(char c) {
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return true;
      --depth;
    } else if (c == ',') {
      return depth == 0;
    }
    return false;
  }
  [[gnu::always_inline]] inline Block block(const char* p, uint64_t in, uint64_t structural, uint64_t backslashes,
                                            uint64_t nl);
};

bool RecordStream::more(ScanState& st) {
  const uint64_t before = base_;
  const bool got = fill();
  const size_t moved = static_cast<size_t>(base_ - before);
  st.i -= moved;
  st.start -= moved;
  return got;
}

// A block's masks known: st.i at the element's end (ended), st back at the element's start
// when a backslash outside strings leaves the masks unable to decide (undecided), or st past
// the block (go_on). `in`: which bytes are in strings.
RecordStream::Block RecordStream::ScanState::block(const char* p, uint64_t in, uint64_t structural, uint64_t backslashes,
                                                  uint64_t nl) {
  // A backslash outside strings is not JSON, and the masks assumed otherwise: what it does to
  // the boundaries is the bytewise scan's to say, from the element's start. (Up to the first
  // such backslash the masks agree with the bytewise scan, so it is seen here.)
  if (backslashes & ~in) {
    *this = ScanState{start, start};
    return Block::undecided;
  }
  // Brackets and commas outside strings, in order: the element ends at a comma or a closing
  // bracket at depth 0.
  for (uint64_t m = structural & ~in; m != 0; m &= m - 1) {
    const unsigned k = static_cast<unsigned>(__builtin_ctzll(m));
    if (ends_at(p[k])) {
      newlines += static_cast<uint64_t>(__builtin_popcountll(nl & ((uint64_t{1} << k) - 1)));
      i += k;
      return Block::ended;
    }
  }
  in_string = (in >> 63) != 0;
  newlines += static_cast<uint64_t>(__builtin_popcountll(nl));
  i += 64;
  return Block::go_on;
}

// 64 bytes a step, as bit masks (bit k: the byte at i + k), where the bytewise scan jumped
// from string to string with a branch at each (some 3.3 instructions a byte; this thread
// feeds all the workers): quotes, backslashes, and brackets and commas; which bytes are in
// strings is the prefix XOR of the unescaped quotes (the opening quote in, the closing one
// out), carried from block to block. Returns true with st.i at the element's end; false with
// st where the bytewise scan goes on: at the last bytes of the input (fewer than 64), or back at
// the element's start when the masks cannot decide (ScanState::block). The block scan also
// counts the element's newlines (for the next record's line), where a second pass did.
bool RecordStream::scan_blocks(ScanState& st) {
  // AVX2 and a carry-less multiply where the CPU has them (x86-64's baseline is SSE2): the
  // masks from two 32-byte loads instead of four 16-byte ones, the prefix XOR in one
  // instruction instead of twelve (the 665k mixture's 1.08 GB: 0.16 s against 0.22 s on the VM).
  static const bool wide = masks::have_avx2();
  const bool avx2 = wide && options_.scan == Scan::widest;
  for (;;) {
    const Block b = avx2 ? blocks_avx2(data_, size_, st) : blocks_sse2(data_, size_, st);
    if (b == Block::ended) return true;
    if (b == Block::undecided || !more(st)) return false;
  }
}

template <class M>
RecordStream::Block RecordStream::blocks(const char* data, size_t size, ScanState& st) {
  while (st.i + 64 <= size) {
    const char* p = data + st.i;
    const masks::Block m = M::load(p);
    uint64_t in = M::prefix_xor(m.quotes & ~masks::escaped_bytes(m.backslashes, st.escaped));
    if (st.in_string) in = ~in;
    const Block b = st.block(p, in, m.structural, m.backslashes, m.newlines);
    if (b != Block::go_on) return b;
  }
  return Block::go_on;
}

// (flatten: the masks' loads inline, in the instruction set the function is compiled for)
[[gnu::flatten]] RecordStream::Block RecordStream::blocks_sse2(const char* data, size_t size, ScanState& st) {
#if defined(__SSE2__)
  return blocks<masks::Sse2>(data, size, st);
#else
  (void)data, (void)size, (void)st;
  return Block::undecided;
#endif
}

#if defined(__x86_64__)
[[gnu::target("avx2,pclmul,popcnt"), gnu::flatten]] RecordStream::Block RecordStream::blocks_avx2(const char* data, size_t size,
                                                                                                 ScanState& st) {
  return blocks<masks::Avx2>(data, size, st);
}
#else
RecordStream::Block RecordStream::blocks_avx2(const char* data, size_t size, ScanState& st) { return blocks_sse2(data, size, st); }
#endif

// Byte by byte from st (string to string), to the element's end; throws at the input's end.
void RecordStream::scan_bytes(ScanState& st) {
  size_t& i = st.i;
  for (;;) {
    if (i >= size_) {
      // (an escaped byte's place is past the input: the error names its backslash)
      if (!more(st))
        fail(st.in_string ? "a string is not closed" : "the JSON array is not closed (missing ']')", st.escaped ? i - 1 : i);
      continue;
    }
    if (st.escaped) {
      st.escaped = false;
      ++i;
      continue;
    }
    if (st.in_string) {
      // Jump to the string's next quote or backslash (which escapes one char).
      i = find_quote_or_backslash(data_, i, size_);
      if (i == size_) continue;  // at the end of the buffer: fill and go on
      if (data_[i] == '\\') st.escaped = true;
      else st.in_string = false;
      ++i;
      continue;
    }
    // Between strings: the next quote, bracket or comma 16 bytes at a time (the rest, spaces,
    // colons, numbers and literals, changes nothing here), where one byte a step cost some ten
    // instructions a byte on the short stretches between a record's many strings.
    if (i + 16 <= size_) {
      unsigned m = structural_mask(data_ + i);
      if (m == 0) {
        i += 16;
        continue;
      }
      const size_t block = i;
      bool ended = false;
      for (; m != 0; m &= m - 1) {
        i = block + static_cast<size_t>(__builtin_ctz(m));
        if (data_[i] == '"') break;
        if ((ended = st.ends_at(data_[i]))) break;
      }
      if (ended) return;
      if (m == 0) {
        i = block + 16;
        continue;
      }
      st.in_string = true;  // at the quote
      ++i;
      continue;
    }
    if (data_[i] == '"') st.in_string = true;
    else if (st.ends_at(data_[i])) return;
    ++i;
  }
}

bool RecordStream::next_array(std::string_view& record, SourcePos& pos) {
  if (!skip_space()) fail("the JSON array is not closed (missing ']')", size_);
  if (data_[pos_] == ']') {
    advance_to(pos_ + 1);
    if (skip_space()) fail("unexpected text after the JSON array", pos_);
    mode_ = Mode::done;
    return false;
  }
  // One element: nesting depth outside strings; it ends at a ',' or ']' at depth 0. The index
  // knows where, or the element is scanned.
  const size_t start = pos_;
  size_t i = 0;
  bool counted = false;  // line_at_end is the line at i
  uint64_t line_at_end = 0;
  ElementIndex::End end;
  if (element_index_ && element_index_->next(start, end)) {
    i = end.offset;
    while (size_ <= i && fill()) {
    }
    line_at_end = index_line_ + end.newlines;
    counted = true;
    ++indexed_;
  } else {
    element_index_.reset();  // (it never answers again)
    ScanState st;
    st.start = st.i = pos_;
    counted = options_.scan != Scan::bytewise && scan_blocks(st);
    if (!counted) scan_bytes(st);
    // (filling a read buffer can move the element: st is where it is now)
    pos_ = st.start;
    i = st.i;
    line_at_end = line_ + st.newlines;
  }
  size_t b = i;
  while (b > pos_ && is_space(data_[b - 1])) --b;
  if (b == pos_) fail("empty element in the JSON array", pos_);
  record = buf().substr(pos_, b - pos_);
  set_pos(pos, line_, abs(pos_));
  // Consume the separator; the closing ']' is left for the next call. The block scan and the
  // index counted the newlines from the element's start (pos_) to it.
  const size_t next = data_[i] == ',' ? i + 1 : i;
  if (counted) {
    line_ = line_at_end;
    pos_ = next;
  } else {
    advance_to(next);
  }
  return true;
}

}  // namespace tokalign::chat
