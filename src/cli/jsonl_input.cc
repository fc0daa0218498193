#include "cli/jsonl_input.h"

#include <cstdlib>
#include <sys/types.h>

namespace tokalign::cli {

bool read_line(FILE* f, std::string& line) {
  static thread_local char* buf = nullptr;
  static thread_local size_t cap = 0;
  ssize_t n = ::getline(&buf, &cap, f);
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  if (len > 0 && buf[len - 1] == '\n') --len;
  if (len > 0 && buf[len - 1] == '\r') --len;
  line.assign(buf, len);
  return true;
}

}  // namespace tokalign::cli
