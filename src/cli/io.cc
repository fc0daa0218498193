#include "cli/io.h"

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace tokalign::cli {

Input::Input(const std::string& path) : f_(stdin), name_("<stdin>"), owned_(false) {
  if (path != "-") {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw Error(path + ": cannot open: " + std::strerror(errno));
    name_ = path;
    owned_ = true;
  }
}

Input::~Input() {
  if (owned_) std::fclose(f_);
}

std::string Input::read_all() {
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f_)) > 0) out.append(buf, n);
  if (std::ferror(f_)) throw Error(name_ + ": read error: " + std::strerror(errno));
  return out;
}

Output::Output(const std::string& path) : f_(stdout), name_("<stdout>"), owned_(false) {
  if (path != "-") {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw Error(path + ": cannot create: " + std::strerror(errno));
    name_ = path;
    owned_ = true;
  }
}

Output::~Output() {
  if (f_ && owned_) std::fclose(f_);
}

void Output::write(std::string_view s) {
  if (!s.empty() && std::fwrite(s.data(), 1, s.size(), f_) != s.size())
    throw Error(name_ + ": write error: " + std::strerror(errno));
}

void Output::close() {
  if (std::fflush(f_) != 0) throw Error(name_ + ": write error: " + std::strerror(errno));
  if (owned_) {
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) throw Error(name_ + ": write error: " + std::strerror(errno));
  }
}

}  // namespace tokalign::cli
