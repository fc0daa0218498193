#include "report/inspect_view.h"

#include <algorithm>

#include "report/visible.h"
#include "util/json_write.h"

namespace tokalign::report {

namespace {

using shard::kIgnoreIndex;
using shard::kImagePlaceholder;

std::string num(int64_t v) { return std::to_string(v); }

const shard::TokenProvenance* prov(const shard::Sample& s, size_t i) {
  return i < s.provenance.size() ? &s.provenance[i] : nullptr;
}

bool is_image(const shard::Sample& s, size_t i) {
  if (s.input_ids[i] == kImagePlaceholder) return true;
  const shard::TokenProvenance* p = prov(s, i);
  return p && p->segment == "image";
}

// The token's text: what it covers in the prompt, else its vocabulary piece. For people,
// tokens that share their characters (byte-fallback pieces of one character) show their
// pieces; machines (JSON) get the covered text.
std::string token_text(const shard::Sample& s, size_t i, const PieceOf& piece, bool for_people = true) {
  if (is_image(s, i)) return "<image>";
  const shard::TokenProvenance* p = prov(s, i);
  if (p && !p->text.empty() && !(for_people && p->shares_text && piece)) return p->text;
  return piece ? piece(s.input_ids[i]) : std::string();
}

std::string label_word(const shard::Sample& s, size_t i) {
  if (is_image(s, i)) return "image";
  return s.labels[i] == kIgnoreIndex ? "ignored" : "trained";
}

void pad(std::string& out, const std::string& s, size_t width, bool right = false) {
  const size_t w = display_width(s);
  if (right)
    for (size_t k = w; k < width; ++k) out.push_back(' ');
  out += s;
  if (!right)
    for (size_t k = w; k < width; ++k) out.push_back(' ');
}

std::string html_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

std::string header(const InspectItem& it) {
  std::string h = "sample " + it.id + " (record " + num(static_cast<int64_t>(it.index)) + ")";
  const shard::Sample& s = it.sample;
  if (!s.input_ids.empty())
    h += ": " + num(static_cast<int64_t>(s.input_ids.size())) + " tokens, " + num(static_cast<int64_t>(s.trained_tokens())) +
         " trained, " + num(static_cast<int64_t>(s.images.size())) + " image(s)";
  if (s.flags & shard::kBoundaryMerge) h += ", boundary merges " + num(s.boundary_merges);
  if (s.flags & shard::kTruncated) h += ", truncated (" + num(s.dropped_turns) + " messages dropped)";
  if (s.flags & shard::kSpecialInContent) {
    h += ", special strings in content:";
    for (const std::string& x : s.special_strings) h += " " + x;
  }
  return h;
}

}  // namespace

void write_terminal(std::string& out, const InspectItem& it, const PieceOf& piece, bool color) {
  const char* bold = color ? "\x1b[1m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  out += bold + std::string("== ") + header(it) + reset + "\n";
  if (!it.where.empty()) out += "   from " + it.where + "\n";
  if (it.quarantined)
    out += std::string(color ? "\x1b[31m" : "") + "   QUARANTINED: " + it.reason + (it.field.empty() ? "" : " at " + it.field) +
           ": " + it.message + reset + "\n";
  const shard::Sample& s = it.sample;
  if (s.input_ids.empty()) return;
  out += "     pos       id  label    segment      role       turn  text\n";
  for (size_t i = 0; i < s.input_ids.size(); ++i) {
    const std::string lw = label_word(s, i);
    const char* c = !color ? "" : lw == "trained" ? "\x1b[32m" : lw == "image" ? "\x1b[35m" : "\x1b[2m";
    const shard::TokenProvenance* p = prov(s, i);
    out += c;
    pad(out, num(static_cast<int64_t>(i)), 8, true);
    pad(out, num(s.input_ids[i]), 9, true);
    out += "  ";
    pad(out, lw, 9);
    pad(out, p ? p->segment : "-", 13);
    pad(out, p ? p->role : "-", 11);
    pad(out, p && p->turn >= 0 ? num(p->turn) : "-", 6);
    out += visible(token_text(s, i, piece));
    out += reset;
    out += "\n";
  }
  if (!s.reference_ids.empty()) {
    size_t k = 0;
    while (k < s.reference_ids.size() && k < s.input_ids.size() && s.reference_ids[k] == s.input_ids[k]) ++k;
    out += "   Hugging Face's defaults (special tokens parsed in message text) differ from position " + num(static_cast<int64_t>(k)) +
           ": ours " + num(static_cast<int64_t>(s.input_ids.size())) + " tokens, theirs " +
           num(static_cast<int64_t>(s.reference_ids.size())) + "\n";
  }
}

void write_json(std::string& out, const InspectItem& it, const PieceOf& piece) {
  const shard::Sample& s = it.sample;
  out += "{\"id\":";
  append_json_string(out, it.id);
  out += ",\"index\":" + num(static_cast<int64_t>(it.index));
  if (it.quarantined) {
    out += ",\"quarantine\":{\"reason\":";
    append_json_string(out, it.reason);
    out += ",\"field\":";
    append_json_string(out, it.field);
    out += ",\"message\":";
    append_json_string(out, it.message);
    out += "}";
  }
  out += ",\"tokens\":[";
  for (size_t i = 0; i < s.input_ids.size(); ++i) {
    const shard::TokenProvenance* p = prov(s, i);
    out += i ? ",{" : "{";
    out += "\"pos\":" + num(static_cast<int64_t>(i)) + ",\"id\":" + num(s.input_ids[i]) + ",\"text\":";
    append_json_string(out, token_text(s, i, piece, false));
    out += ",\"label\":" + num(s.labels[i]) + ",\"role\":";
    if (p) append_json_string(out, p->role);
    else out += "null";
    out += ",\"turn\":";
    out += p && p->turn >= 0 ? num(p->turn) : "null";
    out += ",\"segment\":";
    if (p) append_json_string(out, p->segment);
    else out += "null";
    if (p) out += ",\"start\":" + num(p->start) + ",\"end\":" + num(p->end);
    out += "}";
  }
  out += "]";
  if (!s.reference_ids.empty()) {
    out += ",\"reference_ids\":[";
    for (size_t i = 0; i < s.reference_ids.size(); ++i) {
      if (i) out.push_back(',');
      out += num(s.reference_ids[i]);
    }
    out += "]";
  }
  out += "}\n";
}

std::string html_page(const std::vector<InspectItem>& items, const PieceOf& piece, const std::string& title) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) + "</title>\n";
  h += R"(<style>
body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px} h2{font-size:16px;margin:28px 0 4px} .where{color:#777;font-size:12px}
.q{color:#b00020;font-weight:600} .legend span{margin-right:12px}
.toks{font:13px/2 ui-monospace,monospace;background:#fff;border:1px solid #ddd;padding:10px;border-radius:6px;word-break:break-all}
.t{padding:1px 1px;margin:0 1px;border-radius:3px;white-space:pre-wrap;border-bottom:2px solid transparent}
.trained{background:#c8f0c8;border-bottom-color:#2a8a2a} .ignored{background:#eee;color:#666}
.image{background:#e6d4f7;color:#5a2d82;font-weight:600} .eot{outline:1px dashed #2a8a2a}
.t:hover{outline:2px solid #1565c0}
table.cmp{border-collapse:collapse;font:12px ui-monospace,monospace;margin-top:8px}
table.cmp td,table.cmp th{border:1px solid #ccc;padding:2px 6px} table.cmp .diff{background:#ffe0e0}
</style></head><body>
)";
  h += "<h1>" + html_escape(title) + "</h1>\n";
  h += "<p class=\"legend\"><span class=\"t trained\">trained</span><span class=\"t ignored\">ignored (-100)</span>"
       "<span class=\"t image\">image</span> Hover a token for its position, id, label and provenance. "
       "Whitespace is shown as \xE2\x90\xA3 (space), \xE2\x8F\x8E (newline), \xE2\x86\x92 (tab).</p>\n";
  for (const InspectItem& it : items) {
    const shard::Sample& s = it.sample;
    h += "<section class=\"sample\" data-id=\"" + html_escape(it.id) + "\">\n<h2>" + html_escape(header(it)) + "</h2>\n";
    if (!it.where.empty()) h += "<div class=\"where\">" + html_escape(it.where) + "</div>\n";
    if (it.quarantined)
      h += "<p class=\"q\">Quarantined: " + html_escape(it.reason) + (it.field.empty() ? "" : " at " + html_escape(it.field)) +
           " &mdash; " + html_escape(it.message) + "</p>\n";
    if (!s.input_ids.empty()) {
      h += "<div class=\"toks\">";
      for (size_t i = 0; i < s.input_ids.size(); ++i) {
        const shard::TokenProvenance* p = prov(s, i);
        std::string cls = label_word(s, i);
        if (p && p->segment == "end_of_turn") cls += " eot";
        std::string tip = "pos " + num(static_cast<int64_t>(i)) + " \xC2\xB7 id " + num(s.input_ids[i]) + " \xC2\xB7 label " +
                          num(s.labels[i]);
        if (p) tip += " \xC2\xB7 " + p->segment + " \xC2\xB7 " + p->role + (p->turn >= 0 ? " turn " + num(p->turn) : "");
        if (piece && !is_image(s, i)) tip += " \xC2\xB7 piece " + piece(s.input_ids[i]);
        h += "<span class=\"t " + cls + "\" data-pos=\"" + num(static_cast<int64_t>(i)) + "\" data-label=\"" + num(s.labels[i]) +
             "\" title=\"" + html_escape(tip) + "\">" + html_escape(visible(token_text(s, i, piece))) + "</span>";
      }
      h += "</div>\n";
    }
    if (!s.reference_ids.empty()) {
      // Side by side from the first difference: our ids and Hugging Face's defaults.
      size_t k = 0;
      while (k < s.reference_ids.size() && k < s.input_ids.size() && s.reference_ids[k] == s.input_ids[k]) ++k;
      h += "<p>Hugging Face's defaults (special tokens parsed in message text too) give other ids from position " +
           num(static_cast<int64_t>(k)) + ":</p>\n<table class=\"cmp\"><tr><th>pos</th><th>tokalign</th><th>HF default</th></tr>\n";
      // Rows that differ, with two rows of context around each, at most 80 rows.
      const size_t n = std::max(s.input_ids.size(), s.reference_ids.size());
      auto differs = [&](size_t i) {
        return i >= s.input_ids.size() || i >= s.reference_ids.size() || s.input_ids[i] != s.reference_ids[i];
      };
      size_t rows = 0;
      for (size_t i = k; i < n && rows < 80; ++i) {
        bool near = false;
        for (size_t j = i >= 2 ? i - 2 : 0; j <= i + 2 && j < n; ++j) near |= differs(j);
        if (!near) continue;
        ++rows;
        auto cell = [&](const std::vector<int32_t>& v) {
          if (i >= v.size()) return std::string("");
          std::string c = num(v[i]);
          if (piece && v[i] >= 0) c.append(" ").append(html_escape(visible(piece(v[i]))));
          return c;
        };
        const bool diff = differs(i);
        h += std::string("<tr") + (diff ? " class=\"diff\"" : "") + "><td>" + num(static_cast<int64_t>(i)) + "</td><td>" +
             cell(s.input_ids) + "</td><td>" + cell(s.reference_ids) + "</td></tr>\n";
      }
      h += "</table>\n";
    }
    h += "</section>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace tokalign::report
