// RecordStream: JSON arrays and JSON Lines split into records with their positions, without
// loading the file whole; broken structure is an error naming byte and line.
#include "chat/record_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include <unistd.h>
#include <vector>

#include "util/error.h"
#include "util/checksum.h"
#include "util/sha256.h"
#include "util/test_support.h"

namespace tokalign::chat {
namespace {

using testing_util::File;
using testing_util::text_file;

struct Got {
  std::vector<std::string> records;
  std::vector<SourcePos> pos;
  uint64_t indexed = 0;  // RecordStream::indexed_records()
};

Got read_all(const std::string& text, RecordStream::Options options = {}) {
  const File f = text_file(text, options.map);
  RecordStream rs(f.get(), "data.json", options);
  // (Options::map must have mapped it: else these tests would compare reads with reads)
  if (options.map && rs.mapped() != !text.empty()) throw std::logic_error("Options::map did not map a regular file");
  Got g;
  std::string_view r;
  SourcePos p;
  while (rs.next(r, p)) {
    g.records.emplace_back(r);
    g.pos.push_back(p);
  }
  g.indexed = rs.indexed_records();
  return g;
}

// Everything a scan gives: each record with its line, byte offset and index, then the error
// that ended it (empty if none).
std::string scan_log(const std::string& text, RecordStream::Options options) {
  std::string log;
  try {
    const Got g = read_all(text, options);
    for (size_t i = 0; i < g.records.size(); ++i)
      log += std::to_string(g.pos[i].line) + ":" + std::to_string(g.pos[i].byte_offset) + ":" +
             std::to_string(g.pos[i].index) + ":" + g.pos[i].file + "[" + g.records[i] + "]\n";
  } catch (const Error& e) {
    log += std::string("error: ") + e.what();
  }
  return log;
}

TEST(RecordStream, ArrayElementsWithPositions) {
  const std::string text = "\xEF\xBB\xBF [\n {\"a\": \"x,]}\\\"\"} ,\n\n{\"b\": [1, {\"c\": 2}]}\n]\n";
  Got g = read_all(text);
  ASSERT_EQ(g.records.size(), 2u);
  EXPECT_EQ(g.records[0], "{\"a\": \"x,]}\\\"\"}");
  EXPECT_EQ(g.records[1], "{\"b\": [1, {\"c\": 2}]}");
  EXPECT_EQ(g.pos[0].line, 2u);
  EXPECT_EQ(g.pos[1].line, 4u);
  EXPECT_EQ(g.pos[1].index, 1u);
  EXPECT_EQ(text.substr(g.pos[1].byte_offset, 6), "{\"b\": ");
}

TEST(RecordStream, JsonLinesSkipBlankLinesAndKeepLineNumbers) {
  const std::string text = "{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
  Got g = read_all(text);
  ASSERT_EQ(g.records.size(), 3u);
  EXPECT_EQ(g.records[1], "{\"b\":2}");
  EXPECT_EQ(g.pos[1].line, 4u);
  EXPECT_EQ(g.pos[2].line, 5u);
  EXPECT_EQ(g.records[2], "{\"c\":3}");
}

// JSON Lines over several read chunks (the reader drops what it consumed to make room): each
// line, its line number and byte offset come back as written, a line of 3 MiB too.
TEST(RecordStream, JsonLinesAcrossReadChunks) {
  std::mt19937 rng(4);
  std::string text;
  std::vector<std::string> want;
  std::vector<size_t> offsets, lines;
  size_t line = 1;
  while (text.size() < (6u << 20)) {
    for (size_t k = rng() % 3; k > 0; --k, ++line) text += rng() % 2 ? "\n" : "  \n";  // blank lines
    const size_t len = rng() % 200 == 0 ? (3u << 20) : rng() % 3000;
    const std::string r = "{\"v\": \"" + std::string(len, static_cast<char>('a' + rng() % 26)) + "\"}";
    offsets.push_back(text.size());
    lines.push_back(line++);
    want.push_back(r);
    text += r + (rng() % 5 == 0 ? "\r\n" : "\n");
  }
  const Got g = read_all(text);
  ASSERT_EQ(g.records.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(g.records[i], want[i]) << i;
    ASSERT_EQ(g.pos[i].byte_offset, offsets[i]) << i;
    ASSERT_EQ(g.pos[i].line, lines[i]) << i;
  }
}

TEST(RecordStream, EmptyInputsHaveNoRecords) {
  EXPECT_TRUE(read_all("").records.empty());
  EXPECT_TRUE(read_all("[]").records.empty());
  EXPECT_TRUE(read_all(" [ ] \n").records.empty());
}

TEST(RecordStream, RecordsLargerThanOneReadChunk) {
  std::string big(3 << 20, 'x');
  const std::string text = "[{\"v\": \"" + big + "\"}, {\"w\": 1}]";
  Got g = read_all(text);
  ASSERT_EQ(g.records.size(), 2u);
  EXPECT_EQ(g.records[0].size(), big.size() + 9);
  EXPECT_EQ(g.records[1], "{\"w\": 1}");
}

// Random arrays over several read chunks, built from what the scan must get right: strings
// holding quotes, backslashes (runs of them), brackets, commas and newlines as escapes,
// nesting, and raw newlines between records. Each record, its line and its byte offset come
// back as written, wherever the chunk boundaries fall.
TEST(RecordStream, RandomArraysAcrossReadChunks) {
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {"a", "ü", "\\\\", "\\\"", "\\n", "]", "}", ",", "{", "[", " ", "x y z",
                                           "\\\\\\\\", "\\u0041", "日本"};
  auto str = [&] {
    std::string s = "\"";
    for (size_t k = rng() % 40; k > 0; --k) s += pieces[rng() % pieces.size()];
    if (rng() % 50 == 0) s += std::string(20000 + rng() % 70000, 'w');  // long strings: whole 16-byte steps
    return s + "\"";
  };
  std::string text = "[";
  std::vector<std::string> want;
  std::vector<size_t> offsets;
  while (text.size() < (5u << 20)) {
    text += rng() % 3 == 0 ? "\n" : rng() % 2 ? " " : "";
    // Now and then 5,000 raw newlines inside a record: byte-wide line counts must not wrap.
    std::string r = "{";
    r.append(rng() % 100 == 0 ? 5000 : 0, '\n');
    r += "\"id\": " + str() + ", \"v\": [" + str() + ", {\"k\": [" + str() + "]}], \"n\": 12}";
    offsets.push_back(text.size());
    want.push_back(r);
    text += r;
    text += rng() % 4 == 0 ? "\n," : ",";
  }
  text.back() = ']';
  const Got g = read_all(text);
  ASSERT_EQ(g.records.size(), want.size());
  uint64_t line = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    const size_t from = i ? offsets[i - 1] : 0;
    line += static_cast<uint64_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                                             text.begin() + static_cast<std::ptrdiff_t>(offsets[i]), '\n'));
    ASSERT_EQ(g.records[i], want[i]) << i;
    ASSERT_EQ(g.pos[i].byte_offset, offsets[i]) << i;
    ASSERT_EQ(g.pos[i].line, line) << i;
  }
}

// Short records dense in what the 64-byte blocks must get right, at every alignment: a string
// open across a block's end, quotes and brackets at bit 63 and bit 0, backslash runs of every
// length (an escaped quote, an escaped backslash before a real quote), blocks with and without
// a backslash in turn. Many seeds; each array is small, so records end in every block place.
TEST(RecordStream, DenseEscapesAtEveryBlockAlignment) {
  const std::vector<std::string> pieces = {"\\\"", "\\\\", "\\\\\\\"", "]", "}", ",", "[", "{", "\"", "a", " ", "\\n"};
  size_t records = 0;
  for (unsigned seed = 0; seed < 400; ++seed) {
    std::mt19937 rng(seed);
    auto str = [&] {
      std::string s = "\"";
      for (size_t k = rng() % 24; k > 0; --k) {
        const std::string& p = pieces[rng() % pieces.size()];
        if (p != "\"") s += p;  // a bare quote would end the string
      }
      return s + "\"";
    };
    std::string text = std::string(rng() % 64, ' ') + "[";
    std::vector<std::string> want;
    std::vector<size_t> offsets;
    for (size_t n = 1 + rng() % 12; n > 0; --n) {
      text += std::string(rng() % 70, rng() % 2 ? ' ' : '\n');
      std::string r = "{";
      r.append(rng() % 64, ' ');
      r += "\"k\": " + str() + ", \"v\": [" + str() + ", [[" + str() + "]], {}]}";
      offsets.push_back(text.size());
      want.push_back(r);
      text += r + ",";
    }
    text.back() = ']';
    text += std::string(rng() % 3, '\n');
    const Got g = read_all(text);
    ASSERT_EQ(g.records.size(), want.size()) << "seed " << seed;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(g.records[i], want[i]) << "seed " << seed << " record " << i;
      ASSERT_EQ(g.pos[i].byte_offset, offsets[i]) << "seed " << seed << " record " << i;
      ASSERT_EQ(g.pos[i].line, 1 + static_cast<uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offsets[i]), '\n')));
    }
    records += want.size();
  }
  EXPECT_GT(records, 2000u);
}

// An unclosed string is reported at the same byte whether the scan is in a 64-byte block or
// in the last bytes of the file: at a trailing backslash, the backslash.
TEST(RecordStream, UnclosedStringAtTheBackslashInAndOutOfBlocks) {
  for (size_t pad : {0, 5, 60, 61, 62, 63, 64, 100, 127, 128}) {
    const std::string text = "[{\"a\": \"" + std::string(pad, 'x') + "\\";
    try {
      read_all(text);
      ADD_FAILURE() << "no error, pad " << pad;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("a string is not closed at byte " + std::to_string(text.size() - 1)), std::string::npos)
          << "pad " << pad << ": " << m;
    }
  }
}

// Random text built from what a scan can get wrong, valid JSON or not (a backslash outside
// strings, stray brackets and quotes, an unclosed string or array); every fourth seed valid.
bool clean_seed(unsigned seed) { return seed % 4 == 0; }
std::string any_array(unsigned seed) {
  static const std::vector<std::string> pieces = {"\"", "\\", "\\\"", "\\\\", "{", "}", "[", "]", ",", " ", "\n",
                                                  "a", "12", "ü", "{\"k\": \"v\"}", "\"x,]}\"", std::string(70, 'w')};
  std::mt19937 rng(seed);
  // (a lone backslash, a bare quote or stray noise is not JSON)
  const bool clean = clean_seed(seed);
  std::string text = clean || rng() % 8 ? "[" : "";
  const size_t n = rng() % 120;
  const unsigned noise = 4 + seed % 200;  // one element in `noise` is noise instead
  for (size_t k = 0; k < n; ++k) {
    if (!clean && rng() % noise == 0) {
      text += pieces[rng() % pieces.size()];
      continue;
    }
    std::string v = "\"";
    for (size_t m = rng() % 10; m > 0; --m) {
      const std::string& p = pieces[rng() % pieces.size()];
      if (!clean) {
        v += p == "\"" ? "\\\"" : p;
        continue;
      }
      for (char c : p) {  // escaped as JSON
        if (c == '"' || c == '\\') v += '\\';
        v += c;
      }
    }
    text += "{\"id\": " + v + "\", \"c\": [" + v + "\", {}]}" + (clean || rng() % 5 ? "," : "");
  }
  if (clean || rng() % 4) text += "]";
  if (text.size() > 1 && text[text.size() - 2] == ',') text.erase(text.size() - 2, 1);
  return text;
}

// The 64-byte block scan against the bytewise one on random text (any_array), read in chunks
// of every size around a block's: the same records, positions and errors. A bug planted in
// the block scan's escapes, its string mask's carry from block to block or its fallback to
// the bytewise scan fails this.
TEST(RecordStream, BlockScanEqualsBytewiseScanOnAnyText) {
  using Scan = RecordStream::Scan;
  size_t with_backslash = 0, errors = 0, records = 0;
  for (unsigned seed = 0; seed < 3000; ++seed) {
    const bool clean = clean_seed(seed);
    const std::string text = any_array(seed);
    const std::string bytewise = scan_log(text, {size_t{1} << 20, Scan::bytewise});
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{63}, size_t{64}, size_t{65}, size_t{130}, size_t{1} << 20}) {
      ASSERT_EQ(scan_log(text, {chunk, Scan::widest}), bytewise) << "seed " << seed << " chunk " << chunk << "\n" << text;
      ASSERT_EQ(scan_log(text, {chunk, Scan::sse2}), bytewise) << "seed " << seed << " chunk " << chunk << " (SSE2)\n" << text;
      ASSERT_EQ(scan_log(text, {chunk, Scan::bytewise}), bytewise) << "seed " << seed << " chunk " << chunk << " (bytewise)";
    }
    // The same file mapped instead of read (Options::map), a chunk of it at a time.
    for (size_t chunk : {size_t{1}, size_t{64}, size_t{1} << 20})
      ASSERT_EQ(scan_log(text, {chunk, Scan::widest, nullptr, true}), bytewise) << "seed " << seed << " chunk " << chunk << " (mapped)\n" << text;
    errors += bytewise.find("error: ") != std::string::npos;
    if (clean) {
      ASSERT_EQ(bytewise.find("error: "), std::string::npos) << text;
    }
    for (size_t at = bytewise.find(":data.json["); at != std::string::npos; at = bytewise.find(":data.json[", at + 1)) ++records;
    with_backslash += text.find('\\') != std::string::npos;
  }
  // The inputs reached both ends: records read, and broken files reported.
  EXPECT_GT(records, 40000u);
  EXPECT_GT(errors, 1000u);
  EXPECT_GT(with_backslash, 1000u);
}

// The element index (Options::index_threads) against the bytewise scan on the same random
// text, mapped, in index chunks of every size around a block's (so chunks start inside
// strings, inside backslash runs, between a backslash and its quote) and with one to three
// helpers: the same records, positions and errors. On valid JSON the index found every
// record's end itself: a fallback to the scan would pass the comparison unnoticed.
TEST(RecordStream, ElementIndexEqualsBytewiseScanOnAnyText) {
  using Scan = RecordStream::Scan;
  struct Config {
    size_t chunk, helpers;
    Scan scan;
  };
  size_t indexed = 0;
  for (unsigned seed = 0; seed < 500; ++seed) {
    const std::string text = any_array(seed);
    const std::string bytewise = scan_log(text, {size_t{1} << 20, Scan::bytewise});
    // (chunks of a few bytes are slow, each a helper's hand-over: for some seeds only)
    std::vector<Config> configs = {{64, 1, Scan::widest}, {65, 3, Scan::sse2}, {200, 2, Scan::widest}, {size_t{4} << 20, 1, Scan::widest}};
    if (seed % 4 == 0) configs.insert(configs.end(), {{2, 2, Scan::widest}, {7, 1, Scan::widest}, {63, 3, Scan::widest}});
    if (seed % 32 == 0) configs.push_back({1, 2, Scan::widest});
    for (const Config& c : configs) {
      const RecordStream::Options o{64, c.scan, nullptr, true, c.helpers, c.chunk};
      ASSERT_EQ(scan_log(text, o), bytewise) << "seed " << seed << " index chunk " << c.chunk << ", " << c.helpers << " helpers\n" << text;
    }
    if (clean_seed(seed)) {
      const Got g = read_all(text, {64, Scan::widest, nullptr, true, 2, 64});
      ASSERT_EQ(g.indexed, g.records.size()) << "seed " << seed;
      indexed += g.indexed;
    }
  }
  EXPECT_GT(indexed, 6000u);
}

// Valid records, then a backslash outside strings (not JSON), then more: the index answers up
// to the chunk whose true scan meets the backslash, and the scan takes over from the element
// it is in, with the same records, positions and error as the bytewise scan.
TEST(RecordStream, ElementIndexHandsOverAtTextThatIsNotJson) {
  std::string text = "[\n";
  for (int i = 0; i < 400; ++i) text += "  {\"id\": \"a\\\"b\\\\\", \"c\": [1, {\"x\": \"],}\"}]},\n";
  const size_t bad = text.size();
  text += "  {\"id\": 1 \\ \"x\"},\n";
  for (int i = 0; i < 50; ++i) text += "  {\"id\": \"tail, \\\\\"},\n";
  text += "  {}\n]\n";
  const std::string bytewise = scan_log(text, {size_t{1} << 20, RecordStream::Scan::bytewise});
  for (size_t index_chunk : {size_t{100}, size_t{1000}, size_t{4096}}) {
    const RecordStream::Options o{1 << 20, RecordStream::Scan::widest, nullptr, true, 2, index_chunk};
    EXPECT_EQ(scan_log(text, o), bytewise) << "index chunk " << index_chunk;
    const Got g = read_all(text, o);
    ASSERT_EQ(g.records.size(), 452u);
    // The index found the ends of the records in the chunks before the one with the backslash.
    EXPECT_GE(g.indexed, (bad / index_chunk) * index_chunk * 400 / bad - 1) << "index chunk " << index_chunk;
    EXPECT_LT(g.indexed, 401u) << "index chunk " << index_chunk;
  }
}

TEST(RecordStream, BrokenStructureNamesByteAndLine) {
  for (const char* bad : {"[{\"a\": 1}", "[{\"a\": \"unterminated}]", "[{\"a\":1}] trailing", "[{\"a\":1},,{}]"}) {
    try {
      read_all(bad);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("data.json"), std::string::npos) << m;
      EXPECT_NE(m.find("at byte"), std::string::npos) << m;
      EXPECT_NE(m.find("line"), std::string::npos) << m;
    }
  }
}

// Options::hash sees every byte of the file once, in order, whatever the read chunk and
// wherever the records stop: all read, some read then read_to_end, or none; the digest and
// the byte count are those of the whole file (SHA-256 against sha256_hex; the tap is the
// same for CRC-32).
TEST(RecordStream, HashTapSeesTheWholeFileOnce) {
  std::string text = "\xEF\xBB\xBF [\n";
  for (int i = 0; i < 300; ++i) text += (i ? ",\n" : "") + std::string("{\"id\": ") + std::to_string(i) + ", \"v\": \"" + std::string(i % 97, 'x') + "\"}";
  text += "]\n  \n";
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += "{\"id\": " + std::to_string(i) + "}\n\n";
  for (const std::string& input : {text, lines, std::string("[]"), std::string()}) {
    const std::string want = sha256_hex(input);
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{1000}, size_t{1} << 20}) {
      for (size_t stop_after : {size_t{0}, size_t{3}, size_t{1000}}) {
        for (bool map : {false, true}) {
          File f = text_file(input, map);
          Digest h(Checksum::sha256);
          RecordStream::Options o;
          o.chunk = chunk;
          o.hash = &h;
          o.map = map;
          RecordStream rs(f.get(), "data.json", o);
          std::string_view r;
          SourcePos p;
          size_t n = 0;
          while (n < stop_after && rs.next(r, p)) ++n;
          const uint64_t bytes = rs.read_to_end();
          f.reset();
          EXPECT_EQ(bytes, input.size()) << "chunk " << chunk << ", stopped after " << stop_after << (map ? ", mapped" : "");
          EXPECT_EQ(h.hex(), want) << "chunk " << chunk << ", stopped after " << stop_after << (map ? ", mapped" : "");
          EXPECT_FALSE(rs.next(r, p));
        }
      }
    }
  }
}

// A mapped file many times the unit in which its pages are let go: every record and position
// as read, through and past each let-go range; a second stream while the first holds the
// mapping reads instead (one mapping at a time), with the same records.
TEST(RecordStream, MappedFileLargerThanItsLetGoUnit) {
  std::string text = "[\n";
  for (int i = 0; text.size() < (size_t{13} << 20); ++i)
    text += (i ? ",\n" : "") + std::string("{\"id\": ") + std::to_string(i) + ", \"v\": \"" + std::string(i % 3000, 'x') + "\"}";
  text += "]\n";
  const Got read = read_all(text);
  ASSERT_GT(read.records.size(), 5000u);
  RecordStream::Options o;
  o.map = true;
  const File f = text_file(text, true);
  RecordStream rs(f.get(), "data.json", o);
  ASSERT_TRUE(rs.mapped());
  const File g = text_file(text, true);
  RecordStream second(g.get(), "data.json", o);
  EXPECT_FALSE(second.mapped());
  std::string_view r, r2;
  SourcePos p, p2;
  for (size_t i = 0; i < read.records.size(); ++i) {
    ASSERT_TRUE(rs.next(r, p)) << i;
    ASSERT_EQ(r, read.records[i]) << i;
    ASSERT_EQ(p.byte_offset, read.pos[i].byte_offset) << i;
    ASSERT_EQ(p.line, read.pos[i].line) << i;
    ASSERT_TRUE(second.next(r2, p2)) << i;
    ASSERT_EQ(r2, read.records[i]) << i;
  }
  EXPECT_FALSE(rs.next(r, p));
  EXPECT_FALSE(second.next(r2, p2));
}

// A mapped file that ends exactly at a page's end (nothing readable past it): the scans stop
// at its last byte, in records, in whitespace, in an unterminated string and in a JSON line.
TEST(RecordStream, MappedFileEndingAtAPageBoundary) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  auto exact = [&](std::string head, std::string tail, size_t pages) {
    head.resize(pages * page - tail.size(), ' ');
    return head + tail;
  };
  std::string records = "[";
  for (int i = 0; records.size() < 3 * page; ++i) records += std::string(i ? "," : "") + "{\"id\": " + std::to_string(i) + "}";
  std::string line = "{\"id\": \"" + std::string(2 * page, 'q') + "\"}";
  for (size_t pages : {1, 2, 4}) {
    for (const std::string& text : {exact(records, "]", 4), exact("[{\"a\": 1}", "]", pages),
                                    exact("[{\"a\": \"" + std::string(page / 2, 'z'), "x", pages),
                                    exact("{\"a\": 1}\n", "{\"b\": 2}", pages), exact(line + "\n", "{}", 4)}) {
      ASSERT_EQ(text.size() % page, 0u);
      for (size_t chunk : {size_t{1}, size_t{64}, size_t{1} << 20})
        EXPECT_EQ(scan_log(text, {chunk, RecordStream::Scan::widest, nullptr, true}),
                  scan_log(text, {chunk, RecordStream::Scan::bytewise}))
            << text.size() << " bytes, chunk " << chunk;
    }
  }
}

// A mapped file that another program shortens while it is read: the process ends with a
// message naming the file and the byte, not with a bare "Bus error".
TEST(RecordStreamDeathTest, MappedFileTruncatedUnderTheMapping) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string text = "[\n";
  for (int i = 0; text.size() < (size_t{3} << 20); ++i) text += (i ? ",\n" : "") + std::string("{\"id\": ") + std::to_string(i) + "}";
  text += "]";
  EXPECT_EXIT(
      {
        const File file = text_file(text, true);
        FILE* f = file.get();
        RecordStream::Options o;
        o.map = true;
        o.chunk = 4096;
        RecordStream rs(f, "shrinking.json", o);
        if (!rs.mapped()) std::exit(3);
        std::string_view r;
        SourcePos p;
        rs.next(r, p);
        if (::ftruncate(::fileno(f), 100) != 0) std::exit(4);
        while (rs.next(r, p)) {
        }
        std::exit(5);  // (not reached: the pages past byte 100 are gone)
      },
      ::testing::ExitedWithCode(1), "shrinking.json: the file became shorter while it was read .*at byte [0-9]+\\)");
}

}  // namespace
}  // namespace tokalign::chat
