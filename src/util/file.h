// Whole-file reading with errors that name the file.
#pragma once

#include <string>

namespace tokalign {

// Reads the whole file; throws tokalign::Error naming the path on failure.
std::string read_file(const std::string& path);

}  // namespace tokalign
