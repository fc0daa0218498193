// The one shape every dataset reader produces: a sample id, its messages in order, and the
// images it references. Images sit in message text as `<image>` placeholders (LLaVA's
// convention); readers of formats with typed content parts insert the placeholder where the
// image part was.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tokalign::chat {

enum class Role : uint8_t { system, user, assistant };

const char* role_name(Role r);

struct Message {
  Role role = Role::user;
  std::string content;
};

// Where a sample came from, for error messages: the file, the 1-based line (JSONL) and the
// byte offset of the record, and its 0-based index among the records.
struct SourcePos {
  std::string file;
  uint64_t line = 0;
  uint64_t byte_offset = 0;
  uint64_t index = 0;
  std::string describe() const;
};

// (copy_reusing, below, copies each field: a new field goes there too.)
struct Conversation {
  std::string id;  // the record's "id" (a number is kept as its JSON text), else "#<index>"
  std::vector<Message> messages;
  std::vector<std::string> images;
  SourcePos pos;
};

// The image placeholder in message text.
inline constexpr const char* kImageToken = "<image>";

// Number of non-overlapping occurrences of `needle` in `s`.
size_t count_occurrences(const std::string& s, const std::string& needle);

// to = from, the storage of to's strings (id, messages, image paths) reused, and what it drops
// kept by the calling thread for its next copy (util/reuse.h): for a thread's scratch copy of
// each conversation it changes.
void copy_reusing(const Conversation& from, Conversation& to);

}  // namespace tokalign::chat
