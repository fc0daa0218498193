// libFuzzer target: arbitrary bytes as a dataset file -> RecordStream, its 64-byte block scan
// against its bytewise scan (RecordStream::Options::scan: the widest vectors the CPU has, and SSE2), each reading the bytes in
// chunks of a size taken from the input's first byte (1 to 256, then a megabyte), so that
// read boundaries fall anywhere in a block.
// The widest scan also runs over the input mapped (Options::map, from a memory file), and
// mapped with the element index's helpers (Options::index_threads: 2, in index chunks of the
// same 1 to 256 bytes, so chunks start anywhere in strings and backslash runs).
// Invariants: no crash, hang or sanitizer report; errors are tokalign::Error only; all scans
// give the same records with the same lines, byte offsets and indexes, and the same error; the
// block scan's hash tap (Options::hash, finished by read_to_end) sees the whole input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <sys/mman.h>
#include <unistd.h>

#include "chat/record_stream.h"
#include "util/error.h"
#include "util/checksum.h"
#include "util/sha256.h"

using namespace tokalign;

namespace {

// With `hash`, the stream also hashes what it reads (Options::hash); whether it stopped at its
// end or at an error, read_to_end() then gives the whole input's SHA-256 and size.
// Options::map: the bytes in a memory file (memfd), which the stream maps instead of reading.
std::string scan(std::string_view bytes, chat::RecordStream::Options options, bool hash) {
  std::string log;
  FILE* f = nullptr;
  if (options.map && !bytes.empty()) {
    const int fd = ::memfd_create("fuzz.json", 0);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) || ::lseek(fd, 0, SEEK_SET) != 0)
      std::abort();
    f = ::fdopen(fd, "rb");
  } else {
    f = bytes.empty() ? std::tmpfile() : fmemopen(const_cast<char*>(bytes.data()), bytes.size(), "rb");
  }
  if (!f) std::abort();
  Digest sha(Checksum::sha256);
  if (hash) options.hash = &sha;
  chat::RecordStream rs(f, "fuzz.json", options);
  if (options.map && !bytes.empty() && !rs.mapped()) std::abort();  // (else it compares reads with reads)
  try {
    std::string_view r;
    chat::SourcePos p;
    while (rs.next(r, p)) {
      log += std::to_string(p.line) + ":" + std::to_string(p.byte_offset) + ":" + std::to_string(p.index) + "[";
      log.append(r);
      log += "]\n";
    }
  } catch (const Error& e) {
    log += std::string("error: ") + e.what();
  }
  if (hash) {
    const uint64_t n = rs.read_to_end();
    if (n != bytes.size() || sha.hex() != sha256_hex(bytes)) {
      std::fprintf(stderr, "the hash tap saw %llu of %zu bytes, or other bytes\n", static_cast<unsigned long long>(n), bytes.size());
      std::abort();
    }
  }
  std::fclose(f);
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = data[0] == 0xFF ? size_t{1} << 20 : size_t{data[0]} + 1;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  using Scan = chat::RecordStream::Scan;
  const std::string bytewise = scan(text, {chunk, Scan::bytewise}, false);
  for (int k = 0; k < 4; ++k) {
    const Scan how = k == 1 ? Scan::sse2 : Scan::widest;
    const bool map = k >= 2;
    const size_t helpers = k == 3 ? 2 : 0;
    const std::string blocks = scan(text, {chunk, how, nullptr, map, helpers, chunk}, k != 1);
    if (blocks != bytewise) {
      std::fprintf(stderr, "block scan (%s%s%s):\n%s\nbytewise scan:\n%s\n", how == Scan::widest ? "widest" : "SSE2",
                   map ? ", mapped" : "", helpers ? ", element index" : "", blocks.c_str(), bytewise.c_str());
      std::abort();
    }
  }
  return 0;
}
