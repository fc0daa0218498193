// Where a JSON array's elements end, found ahead of the reader by helper threads. The reader
// (RecordStream) found every element's end on its own thread, 64 bytes a step, for all the
// compile's workers: past 16 cores that scan was what the workers waited for
// (docs/BENCHMARKS.md, "Twenty-sixth session").
//
// The array's text is cut into chunks. A helper scans a chunk as if it began outside a string
// and, at the same time, as if it began inside one (the masks of which bytes are in strings are
// the same, one the complement of the other). For each, it keeps the commas and closing
// brackets outside strings that come at the lowest nesting seen so far in the chunk, with that
// nesting relative to the chunk's start, and how the chunk ends. The reader takes the chunks
// in order: the previous chunk's end says which of the two scans is the true one and at what
// nesting the chunk starts, and the array's element boundaries are the kept ones at the
// array's own nesting (every bracket before the array's end is at that nesting or deeper, so
// its boundaries are always among the kept ones).
//
// A chunk starts after a byte that is not a backslash, so no escape reaches across a chunk's
// start. Where the true scan met a backslash outside strings (not JSON: the masks take every
// backslash to be in a string), the index stops answering and the reader scans on its own
// from there, as it does without an index, with the same records, positions and errors.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tokalign::chat {

class ElementIndex {
 public:
  struct Options {
    size_t threads = 1;              // helper threads
    size_t chunk = size_t{4} << 20;  // bytes a helper scans at a time (at least 1)
    size_t ahead = 0;                // chunks scanned ahead of the reader's; 0: 4 per helper, at least 8
    bool avx2 = true;                // the AVX2 masks where the CPU has them (else SSE2)
  };
  // The elements of the array in text[from, size), `from` just after its '['. The text must
  // stay readable, unchanged, until the index is destroyed.
  ElementIndex(const char* text, size_t size, size_t from, Options options);
  ~ElementIndex();  // stops the helpers
  ElementIndex(const ElementIndex&) = delete;
  ElementIndex& operator=(const ElementIndex&) = delete;

  struct End {
    size_t offset = 0;      // a ',' or a closing bracket at the array's own nesting, outside strings
    uint64_t newlines = 0;  // '\n' bytes in text[from, offset)
  };
  // The first element boundary at or after `at`, where `at` is an element's first byte (at
  // the array's nesting, outside strings) and no less than the last call's. False where the
  // index cannot say (its true scan of a chunk met text that is not JSON, or the text ends
  // with no boundary found): from then on it never answers, and its helpers have stopped.
  bool next(size_t at, End& end);

 private:
  struct Kept {
    size_t offset;
    int64_t nesting;    // open brackets before it, less those at the chunk's start
    uint64_t newlines;  // in the chunk before it
    bool closer;
  };
  struct Scan {  // a chunk scanned from one state at its start
    bool decided = true;  // no backslash outside strings
    bool ends_in_string = false;
    int64_t nesting = 0;  // at the chunk's end, relative
    std::vector<Kept> kept;
  };
  struct Chunk {
    uint64_t newlines = 0;
    Scan from[2];  // [0]: the chunk starts outside a string; [1]: inside one
    bool ready = false;
  };
  size_t start_of(size_t k) const;  // chunk k's first byte; chunks_: size_
  void help();                      // a helper thread
  void scan(size_t k, Chunk& c) const;
  template <class Masks>
  static void scan_with(const char* text, size_t begin, size_t end, Chunk& c);
  static void scan_sse2(const char* text, size_t begin, size_t end, Chunk& c);
  static void scan_avx2(const char* text, size_t begin, size_t end, Chunk& c);
  bool take();  // the next chunk's boundaries into ends_; false: none can be known
  void stop();

  const char* text_;
  size_t size_, from_;
  Options options_;
  size_t chunks_ = 0;
  std::vector<Chunk> slots_;  // chunk k in slots_[k % ahead]

  std::mutex mu_;
  std::condition_variable helpers_cv_, reader_cv_;
  size_t next_chunk_ = 0;  // the next chunk a helper takes
  size_t taken_ = 0;       // chunks the reader has taken
  bool stopped_ = false;
  std::vector<std::thread> helpers_;

  // The reader's (next's) own: the state at chunk taken_'s start, and the boundaries known.
  bool in_string_ = false;
  int64_t nesting_ = 1;  // the array's '[' is open
  uint64_t newlines_ = 0;
  bool done_ = false;  // the array's end found, or the index failed
  std::vector<End> ends_;
  size_t head_ = 0;  // ends_[head_] is the next to answer
};

}  // namespace tokalign::chat
