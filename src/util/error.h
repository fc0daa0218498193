// Errors that cross module boundaries. Library code throws tokalign::Error with enough
// context (file, position, what was expected) for a user to act on; only src/cli/ catches
// and prints them.
#pragma once

#include <stdexcept>
#include <string>

namespace tokalign {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tokalign
