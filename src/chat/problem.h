// A problem with one sample: why it cannot be compiled, as a stable reason code (scripts
// filter on it), the field it concerns and a sentence for people. Problems send the sample
// to quarantine (or stop a --strict run); they are not exceptions.
#pragma once

#include <string>

namespace tokalign::chat {

struct Problem {
  std::string reason;   // reason code, e.g. "unknown_role", "image_count_mismatch"
  std::string field;    // JSON path of the offending field, e.g. "conversations[2].from"
  std::string message;  // what is wrong, for people
};

}  // namespace tokalign::chat
