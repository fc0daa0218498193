#include "chat/record_stream.h"

#include <cstring>

#include "util/error.h"

namespace tokalign::chat {

namespace {
constexpr size_t kChunk = 1 << 20;
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
}  // namespace

RecordStream::RecordStream(FILE* f, std::string name) : f_(f), name_(std::move(name)) {}

bool RecordStream::fill() {
  if (eof_) return false;
  const size_t old = buf_.size();
  buf_.resize(old + kChunk);
  const size_t n = std::fread(buf_.data() + old, 1, kChunk, f_);
  buf_.resize(old + n);
  if (n == 0) {
    if (std::ferror(f_)) throw Error(name_ + ": read error: " + std::strerror(errno));
    eof_ = true;
    return false;
  }
  return true;
}

void RecordStream::compact() {
  if (pos_ < kChunk) return;
  buf_.erase(0, pos_);
  base_ += pos_;
  pos_ = 0;
}

void RecordStream::fail(const std::string& what, size_t at) const {
  uint64_t line = line_;
  for (size_t i = pos_; i < at && i < buf_.size(); ++i) line += buf_[i] == '\n';
  throw Error(name_ + ": " + what + " at byte " + std::to_string(abs(at)) + " (line " + std::to_string(line) + ")");
}

void RecordStream::advance_to(size_t i) {
  // A local count (not the member, which a char store might alias) vectorizes.
  const char* p = buf_.data();
  uint64_t lines = 0;
  for (size_t k = pos_; k < i; ++k) lines += p[k] == '\n';
  line_ += lines;
  pos_ = i;
}

bool RecordStream::skip_space() {
  for (;;) {
    while (pos_ < buf_.size() && is_space(buf_[pos_])) advance_to(pos_ + 1);
    if (pos_ < buf_.size()) return true;
    compact();
    if (!fill()) return false;
  }
}

bool RecordStream::next(std::string_view& record, SourcePos& pos) {
  if (mode_ == Mode::unknown) {
    // Skip a UTF-8 byte order mark, then look at the first character.
    while (buf_.size() < 3 && fill()) {
    }
    if (buf_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
    if (!skip_space()) {
      mode_ = Mode::done;
      return false;
    }
    if (buf_[pos_] == '[') {
      mode_ = Mode::array;
      advance_to(pos_ + 1);
    } else {
      mode_ = Mode::lines;
    }
  }
  if (mode_ == Mode::done) return false;
  compact();
  return mode_ == Mode::array ? next_array(record, pos) : next_line(record, pos);
}

bool RecordStream::next_line(std::string_view& record, SourcePos& pos) {
  for (;;) {
    size_t nl;
    for (;;) {
      nl = buf_.find('\n', pos_);
      if (nl != std::string::npos || !fill()) break;
    }
    const size_t end = nl == std::string::npos ? buf_.size() : nl;
    if (end == pos_ && nl == std::string::npos) {
      mode_ = Mode::done;
      return false;
    }
    size_t a = pos_, b = end;
    while (a < b && is_space(buf_[a])) ++a;
    while (b > a && is_space(buf_[b - 1])) --b;
    const uint64_t line = line_;
    if (nl == std::string::npos) {
      pos_ = end;
    } else {
      pos_ = nl + 1;
      ++line_;
    }
    if (a == b) continue;  // blank line
    record = std::string_view(buf_).substr(a, b - a);
    pos = SourcePos{name_, line, abs(a), index_++};
    return true;
  }
}

bool RecordStream::next_array(std::string_view& record, SourcePos& pos) {
  if (!skip_space()) fail("the JSON array is not closed (missing ']')", buf_.size());
  if (buf_[pos_] == ']') {
    advance_to(pos_ + 1);
    if (skip_space()) fail("unexpected text after the JSON array", pos_);
    mode_ = Mode::done;
    return false;
  }
  // Scan one element: nesting depth outside strings; it ends at a ',' or ']' at depth 0.
  const size_t start = pos_;
  size_t i = pos_;
  int depth = 0;
  bool in_string = false;
  for (;;) {
    if (i >= buf_.size()) {
      if (!fill()) fail(in_string ? "a string is not closed" : "the JSON array is not closed (missing ']')", i);
      continue;
    }
    if (in_string) {
      // Jump to the string's next quote; a backslash before it escapes one char.
      const char* base = buf_.data();
      const void* q = std::memchr(base + i, '"', buf_.size() - i);
      const size_t quote = q ? static_cast<size_t>(static_cast<const char*>(q) - base) : buf_.size();
      const void* bs = std::memchr(base + i, '\\', quote - i);
      if (bs) {
        i = static_cast<size_t>(static_cast<const char*>(bs) - base);
        if (i + 1 >= buf_.size() && !fill()) fail("a string is not closed", i);
        i += 2;
        continue;
      }
      i = quote;  // at the end of the buffer: fill and go on
      if (i < buf_.size()) {
        in_string = false;
        ++i;
      }
      continue;
    }
    const char c = buf_[i];
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) break;  // the array's own ']'
      --depth;
    } else if (c == ',' && depth == 0) {
      break;
    }
    ++i;
  }
  size_t b = i;
  while (b > start && is_space(buf_[b - 1])) --b;
  if (b == start) fail("empty element in the JSON array", start);
  const uint64_t line = line_;
  record = std::string_view(buf_).substr(start, b - start);
  pos = SourcePos{name_, line, abs(start), index_++};
  // Consume the separator; the closing ']' is left for the next call.
  advance_to(buf_[i] == ',' ? i + 1 : i);
  return true;
}

}  // namespace tokalign::chat
