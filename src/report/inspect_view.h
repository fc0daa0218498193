// The inspect view of compiled samples: every token with its position, id, text, training
// label and provenance (segment kind, role, turn), as a terminal table, JSON, or a
// self-contained HTML page.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "shard/sample.h"

namespace tokalign::report {

struct InspectItem {
  std::string id;
  uint64_t index = 0;          // record index in the input
  std::string where;           // "file:line (record N, byte B)"
  bool quarantined = false;
  std::string reason, field, message;  // when quarantined
  shard::Sample sample;        // ids/labels/provenance; empty when nothing was encoded
};

// Vocabulary piece of an id, for tokens without provenance text (shards, added tokens).
using PieceOf = std::function<std::string(int32_t)>;

// A table: pos, id, label, segment, role, turn, text; ANSI colours when `color`.
void write_terminal(std::string& out, const InspectItem& item, const PieceOf& piece, bool color);
// {"id", "index", "tokens": [{"pos", "id", "text", "label", "role", "turn", "segment"}], ...}
void write_json(std::string& out, const InspectItem& item, const PieceOf& piece);
// A whole HTML page, no external assets.
std::string html_page(const std::vector<InspectItem>& items, const PieceOf& piece, const std::string& title);

}  // namespace tokalign::report
