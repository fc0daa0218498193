// The rendered prompt as an ordered list of tagged pieces. Concatenating the texts gives the
// exact prompt string the template produces; the tags say where each character came from,
// which is all the compiler needs to derive labels (never by re-counting split strings).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "chat/conversation.h"
#include "util/reuse.h"

namespace tokalign::chat {

enum class SegmentKind : uint8_t {
  scaffolding,  // template text: role headers, separators (special tokens parsed)
  system,       // system prompt text
  user,         // user message text
  assistant,    // assistant message text
  end_of_turn,  // the template's end-of-turn string closing a message (special tokens parsed)
  image,        // one image placeholder (its text is "<image>"; never tokenized)
};
const char* segment_kind_name(SegmentKind k);

// Where a scaffolding segment sits in its turn: before the content (role header), between
// content and end-of-turn, after the end-of-turn (trailing newline), or outside any turn
// (prefix, system block).
enum class Place : uint8_t { outside, before, between, after };

struct Segment {
  SegmentKind kind;
  Role role;       // the message's role (system for prefix and system block)
  int32_t turn;    // index of the message in Conversation::messages; -1 outside any
  Place place;
  // A view: into the conversation's messages, the template's strings, or Rendered::storage
  // (no copy of every message's text into every sample's segments).
  std::string_view text;
  // Special tokens are parsed in scaffolding and end-of-turn text, never in content.
  bool parse_special() const { return kind == SegmentKind::scaffolding || kind == SegmentKind::end_of_turn; }
};

// The rendered prompt: segments plus the images in placeholder order. Its segments view the
// Conversation and the Template it was rendered from, which must outlive it (and stay
// unchanged), and text made while rendering (a chat template's output), which it keeps.
struct Rendered {
  std::vector<Segment> segments;
  std::vector<std::string> images;
  // Text the segments view that lives nowhere else; a deque, so that keeping more moves none.
  std::deque<std::string> storage;
  std::vector<std::string> spare_images;  // image paths dropped by clear(), their storage kept (util/reuse.h)

  Rendered() = default;
  Rendered(Rendered&&) = default;
  Rendered& operator=(Rendered&&) = default;
  Rendered(const Rendered&) = delete;  // the copy's segments would view the original's storage
  Rendered& operator=(const Rendered&) = delete;

  const std::string& keep(std::string s) { return storage.emplace_back(std::move(s)); }
  // Empties it for the next render.
  void clear() {
    segments.clear();
    shrink_to(images, 0, spare_images);
    storage.clear();
  }
  std::string text() const;
};

}  // namespace tokalign::chat
