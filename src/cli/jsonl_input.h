// Reading the JSONL input of encode/decode: one object per line, errors naming the line.
#pragma once

#include <cstdio>
#include <string>

namespace tokalign::cli {

// Reads one line (without the newline) from f; false at end of input.
bool read_line(FILE* f, std::string& line);

}  // namespace tokalign::cli
