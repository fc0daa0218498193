// Splits a dataset file into records without loading it whole: a JSON array of objects
// (LLaVA's format) or JSON Lines. Memory is bounded by the largest record, not the file.
//
// simdjson parses one document in memory; a 10 GB LLaVA array must not be one document, so
// this scanner finds the top-level array's element boundaries (strings, escapes and nesting
// tracked) and hands each element to simdjson on its own. It runs on one thread ahead of all
// the compile workers, so it reads 64 bytes a step as bit masks (record_stream.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "chat/conversation.h"

namespace tokalign {
class Digest;  // util/checksum.h
}

namespace tokalign::chat {

class ElementIndex;  // chat/element_index.h

class RecordStream {
 public:
  enum class Scan { widest, sse2, bytewise };
  struct Options {
    size_t chunk = size_t{1} << 20;  // bytes a read asks for
    // How array elements are found: 64 bytes at a time with the widest vectors the CPU has
    // (AVX2, else SSE2), with SSE2 alone, or one byte at a time (the block scans' reference,
    // for tests and the fuzzer comparing them).
    Scan scan = Scan::widest;
    // Every byte read from the file also goes to this checksum, in order, as it is read (not
    // owned): the input's checksum without a second pass over the file. read_to_end()
    // finishes it where the records stop short of the file's end.
    Digest* hash = nullptr;
    // A regular file read from its start is mapped into memory instead of read: no copy of
    // each chunk out of the page cache (on the VM a one-CPU compile of the 665k mixture spent
    // 0.3 s of its 10 s of system time on it; docs/BENCHMARKS.md). Records, positions, errors
    // and the hash are the same. A file shortened under the mapping by another program ends
    // the process with a message naming it (SIGBUS; record_stream.cc): for commands, not for
    // a library inside someone else's process (the Python module does not set it).
    bool map = false;
    // Helper threads that find a mapped array's element boundaries ahead of next(), in chunks
    // of `index_chunk` bytes (chat/element_index.h): next() then only looks the element's end
    // up, where it scanned to it. 0: next() scans alone. Records, positions, errors and the
    // hash are the same either way; the block scans only (not Scan::bytewise).
    size_t index_threads = 0;
    size_t index_chunk = size_t{4} << 20;
  };
  // Reads `f` (not owned); `name` names it in errors and source positions.
  RecordStream(FILE* f, std::string name) : RecordStream(f, std::move(name), Options{}) {}
  RecordStream(FILE* f, std::string name, Options options);
  ~RecordStream();
  RecordStream(const RecordStream&) = delete;
  RecordStream& operator=(const RecordStream&) = delete;

  // The next record's text and position; false at the end. Throws tokalign::Error when the
  // file's structure is broken beyond one record (an unterminated array or string, text
  // after the array), naming the byte offset and line.
  bool next(std::string_view& record, SourcePos& pos);

  bool is_array() const { return mode_ == Mode::array; }
  bool mapped() const { return map_ != nullptr; }  // Options::map took effect
  // A mapped stream's records can stay valid after next() (they are views of the mapping):
  // hold_records() keeps every page from the one release() last named on, so a caller can
  // keep records without copying them (the compile pipeline's batches) and say, from any
  // thread, when it is done with the records before a byte offset. Without it, a record
  // lasts until the next call, as when reading.
  void hold_records() { hold_ = true; }
  void release(uint64_t offset) { released_.store(offset, std::memory_order_release); }

  // Records whose end the index (Options::index_threads) found; the rest were scanned.
  uint64_t indexed_records() const { return indexed_; }

  // Reads whatever of the file is left unread (through Options::hash) and returns how many
  // bytes the file held; no record follows.
  uint64_t read_to_end();

 private:
  enum class Mode { unknown, array, lines, done };
  void map_file();  // Options::map: maps f_ where it can
  bool fill();  // appends more input (after dropping the bytes before pos_ when short of room); false at EOF
  std::string_view buf() const { return {data_, size_}; }
  [[noreturn]] void fail(const std::string& what, size_t at) const;
  uint64_t abs(size_t i) const { return base_ + i; }
  void advance_to(size_t i);  // moves pos_ to i, counting newlines
  void set_pos(SourcePos& pos, uint64_t line, uint64_t offset);  // the next record's
  bool skip_space();          // skips whitespace (filling as needed); false at EOF
  bool next_array(std::string_view& record, SourcePos& pos);
  struct ScanState;
  bool more(ScanState& st);  // fills, keeping st's indexes on the same bytes; false at EOF
  bool scan_blocks(ScanState& st);  // true: the element's end is found; false: go on with scan_bytes
  // One scan_blocks step per instruction set: blocks of data[st.i, size) until the element
  // ends (ended), the masks cannot decide (undecided) or fewer than 64 bytes are left (go_on).
  enum class Block { ended, undecided, go_on };
  static Block blocks_sse2(const char* data, size_t size, ScanState& st);
  static Block blocks_avx2(const char* data, size_t size, ScanState& st);
  template <class Masks>  // chat/json_masks.h: Sse2, Avx2
  static Block blocks(const char* data, size_t size, ScanState& st);
  void scan_bytes(ScanState& st);
  bool next_line(std::string_view& record, SourcePos& pos);

  FILE* f_;
  std::string name_;
  Options options_;
  static constexpr size_t kDropUnit = size_t{4} << 20;  // a mapped file's pages are let go 4 MiB at a time
  std::unique_ptr<char[]> owned_;  // the input read (unless mapped)
  const char* map_ = nullptr;          // the mapped file (Options::map), cap_ bytes
  size_t dropped_ = 0;                 // the mapped bytes before it were let go
  bool hold_ = false;                  // hold_records()
  std::atomic<uint64_t> released_{0};  // release(): records before it are no longer held
  const char* data_ = nullptr;         // the input: size_ bytes of cap_ (owned_, or the mapping)
  size_t size_ = 0, cap_ = 0;
  size_t pos_ = 0;      // next unread byte in data_
  uint64_t base_ = 0;   // file offset of data_[0]
  uint64_t line_ = 1;   // line of data_[pos_]
  uint64_t index_ = 0;  // records returned so far
  bool eof_ = false;
  Mode mode_ = Mode::unknown;
  std::unique_ptr<ElementIndex> element_index_;  // Options::index_threads, once the array's '[' is read
  uint64_t index_line_ = 0;              // the line where the index starts
  uint64_t indexed_ = 0;
};

}  // namespace tokalign::chat
