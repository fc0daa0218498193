#include "chat/template.h"

#include "chat/hf_segments.h"

#include "chat/builtin_templates.h"

#include <simdjson.h>

#include <algorithm>

#include "unicode/categories.h"
#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::chat {

namespace dom = simdjson::dom;

const char* segment_kind_name(SegmentKind k) {
  switch (k) {
    case SegmentKind::scaffolding: return "scaffolding";
    case SegmentKind::system: return "system";
    case SegmentKind::user: return "user";
    case SegmentKind::assistant: return "assistant";
    case SegmentKind::end_of_turn: return "end_of_turn";
    case SegmentKind::image: return "image";
  }
  return "?";
}

std::string Rendered::text() const {
  std::string s;
  for (const Segment& g : segments) s += g.text;
  return s;
}

namespace {

[[noreturn]] void fail(const std::string& src, const std::string& field, const std::string& what) {
  throw Error(src + ": template field \"" + field + "\": " + what);
}

Format parse_format(std::string_view f, const std::string& src, const std::string& field, bool allow_system) {
  Format out;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) out.push_back({FormatPiece::text, std::move(lit)});
    lit.clear();
  };
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if ((c == '{' || c == '}') && i + 1 < f.size() && f[i + 1] == c) {
      lit.push_back(c);
      ++i;
      continue;
    }
    if (c == '}') fail(src, field, "unmatched '}' (write '}}' for a literal brace)");
    if (c != '{') {
      lit.push_back(c);
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string_view::npos) fail(src, field, "unclosed '{' (write '{{' for a literal brace)");
    const std::string_view name = f.substr(i + 1, close - i - 1);
    flush();
    if (name == "content") out.push_back({FormatPiece::content, {}});
    else if (name == "eot") out.push_back({FormatPiece::eot, {}});
    else if (name == "system" && allow_system) out.push_back({FormatPiece::system, {}});
    else fail(src, field, "unknown placeholder {" + std::string(name) + "}");
    i = close;
  }
  flush();
  return out;
}

size_t count_kind(const Format& f, FormatPiece::Kind k) {
  return static_cast<size_t>(std::count_if(f.begin(), f.end(), [&](const FormatPiece& p) { return p.kind == k; }));
}

std::string get_string(dom::object o, const char* key, const std::string& src, bool required, std::string dflt = {}) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) {
    if (required) fail(src, key, "missing");
    return dflt;
  }
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) fail(src, key, "expected a string");
  return std::string(s);
}

bool get_bool(dom::object o, const char* key, const std::string& src, bool dflt) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return dflt;
  bool b;
  if (e.get(b) != simdjson::SUCCESS) fail(src, key, "expected true or false");
  return b;
}

std::vector<std::string> get_strings(dom::object o, const char* key, const std::string& src) {
  std::vector<std::string> out;
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return out;
  dom::array a;
  if (e.get(a) != simdjson::SUCCESS) fail(src, key, "expected a list of strings");
  for (dom::element x : a) {
    std::string_view s;
    if (x.get(s) != simdjson::SUCCESS) fail(src, key, "expected a list of strings");
    out.emplace_back(s);
  }
  return out;
}

LlavaLabels get_labels(dom::object o, const char* key, const std::string& src, const LlavaLabels& dflt) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return dflt;
  dom::object lo;
  if (e.get(lo) != simdjson::SUCCESS) fail(src, std::string("labels.") + key, "expected an object");
  for (auto [k, v] : lo) {
    (void)v;
    if (k != "assistant_header" && k != "between" && k != "after_eot" && k != "everywhere")
      fail(src, std::string("labels.") + key + "." + std::string(k), "unknown field");
  }
  LlavaLabels l;
  l.assistant_header = get_bool(lo, "assistant_header", src, false);
  l.between = get_bool(lo, "between", src, true);
  l.after_eot = get_bool(lo, "after_eot", src, false);
  l.everywhere = get_strings(lo, "everywhere", src);
  return l;
}

}  // namespace

Template Template::from_json(std::string_view json, const std::string& src) {
  dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(json.data(), json.size(), true).get(doc))
    throw Error(src + ": not a valid template description: " + simdjson::error_message(err));
  dom::object o;
  if (doc.get(o) != simdjson::SUCCESS) throw Error(src + ": a template description is a JSON object");
  static const char* known[] = {"name", "aliases", "description", "source", "prefix", "system", "system_format",
                                "system_if_empty", "system_in_first_user", "user", "first_user", "assistant",
                                "eot", "add_special_tokens", "trim_content", "image_wrap",
                                "user_content_images_only", "labels"};
  for (auto [k, v] : o) {
    (void)v;
    if (std::find(std::begin(known), std::end(known), k) == std::end(known))
      fail(src, std::string(k), "unknown field");
  }
  Template t;
  t.json = std::string(json);
  t.name = get_string(o, "name", src, true);
  t.aliases = get_strings(o, "aliases", src);
  t.description = get_string(o, "description", src, false);
  t.source = get_string(o, "source", src, false);
  t.prefix = get_string(o, "prefix", src, false);
  dom::element sys;
  if (o["system"].get(sys) == simdjson::SUCCESS && !sys.is_null()) {
    std::string_view s;
    if (sys.get(s) != simdjson::SUCCESS) fail(src, "system", "expected a string or null");
    t.system = std::string(s);
  }
  t.system_format = parse_format(get_string(o, "system_format", src, false, "{system}"), src, "system_format", true);
  if (count_kind(t.system_format, FormatPiece::system) != 1) fail(src, "system_format", "needs exactly one {system}");
  if (count_kind(t.system_format, FormatPiece::content) || count_kind(t.system_format, FormatPiece::eot))
    fail(src, "system_format", "only {system} is allowed here");
  t.system_if_empty = get_bool(o, "system_if_empty", src, false);
  t.system_in_first_user = get_bool(o, "system_in_first_user", src, false);
  t.eot = get_string(o, "eot", src, false);
  auto message_format = [&](const char* key, bool allow_system) {
    Format f = parse_format(get_string(o, key, src, true), src, key, allow_system);
    if (count_kind(f, FormatPiece::content) != 1) fail(src, key, "needs exactly one {content}");
    if (count_kind(f, FormatPiece::eot) > 1) fail(src, key, "has more than one {eot}");
    if (count_kind(f, FormatPiece::eot) && t.eot.empty()) fail(src, key, "uses {eot} but \"eot\" is not set");
    for (size_t i = 0, seen = 0; i < f.size(); ++i) {
      if (f[i].kind == FormatPiece::content) seen = 1;
      if (f[i].kind == FormatPiece::eot && !seen) fail(src, key, "{eot} must come after {content}");
    }
    return f;
  };
  t.user = message_format("user", false);
  t.assistant = message_format("assistant", false);
  dom::element fu;
  if (o["first_user"].get(fu) == simdjson::SUCCESS && !fu.is_null()) {
    t.first_user = message_format("first_user", true);
    t.has_first_user = true;
  }
  if (t.system_in_first_user && (!t.has_first_user || count_kind(t.first_user, FormatPiece::system) != 1))
    fail(src, "first_user", "system_in_first_user needs a first_user format with one {system}");
  if (!t.system_in_first_user && t.has_first_user && count_kind(t.first_user, FormatPiece::system))
    fail(src, "first_user", "{system} here needs \"system_in_first_user\": true");
  t.add_special_tokens = get_bool(o, "add_special_tokens", src, true);
  t.trim_content = get_bool(o, "trim_content", src, false);
  t.user_content_images_only = get_bool(o, "user_content_images_only", src, false);
  std::vector<std::string> wrap = get_strings(o, "image_wrap", src);
  if (!wrap.empty()) {
    if (wrap.size() != 2) fail(src, "image_wrap", "expected [before, after]");
    t.image_before = wrap[0];
    t.image_after = wrap[1];
  }
  dom::element lab;
  if (o["labels"].get(lab) == simdjson::SUCCESS) {
    dom::object lo;
    if (lab.get(lo) != simdjson::SUCCESS) fail(src, "labels", "expected an object");
    for (auto [k, v] : lo) {
      (void)v;
      if (k != "llava" && k != "llava_next") fail(src, "labels." + std::string(k), "unknown field (llava, llava_next)");
    }
    t.llava = get_labels(lo, "llava", src, LlavaLabels{});
    t.llava_next = get_labels(lo, "llava_next", src, t.llava);
  }
  return t;
}

void append_message_text(Rendered& out, const Template& t, SegmentKind k, Role r, int32_t turn, std::string_view text) {
  auto add = [&](SegmentKind kind, std::string_view piece) {
    if (!piece.empty()) out.segments.push_back(Segment{kind, r, turn, Place::between, piece});
  };
  const std::string_view tok = kImageToken;
  size_t from = 0;
  for (size_t at = text.find(tok); at != std::string_view::npos; at = text.find(tok, from)) {
    add(k, text.substr(from, at - from));
    add(SegmentKind::scaffolding, t.image_before);
    out.segments.push_back(Segment{SegmentKind::image, r, turn, Place::between, tok});
    add(SegmentKind::scaffolding, t.image_after);
    from = at + tok.size();
  }
  add(k, text.substr(from));
}

ImagePlacement parse_image_placement(const std::string& name) {
  if (name == "llava") return ImagePlacement::llava;
  if (name == "llava-next") return ImagePlacement::llava_next;
  if (name == "keep") return ImagePlacement::keep;
  throw Error("image placement: \"" + name + "\" is not one of llava, llava-next, keep");
}

namespace {
// Whether place_images leaves this message's text as it is.
bool stays(const std::string& content, const std::string& tok, ImagePlacement placement) {
  if (count_occurrences(content, tok) != 1) return true;  // several stay in place (LLaVA would merge them)
  // LLaVA-NeXT's preprocess_multimodal leaves a message that starts with <image> as it is.
  if (placement == ImagePlacement::llava_next && content.compare(0, tok.size(), tok) == 0) return true;
  // "<image>\n" then a text that strip() keeps whole and that is not empty, or "<image>"
  // alone: what placing (below) makes of it is the same text.
  if (content == tok) return true;
  if (content.size() <= tok.size() + 1 || content.compare(0, tok.size(), tok) != 0 || content[tok.size()] != '\n') return false;
  const std::string_view rest = std::string_view(content).substr(tok.size() + 1);
  return py_strip(rest).size() == rest.size();
}
}  // namespace

const Conversation& placed(const Conversation& c, Conversation& scratch, ImagePlacement placement) {
  if (placement == ImagePlacement::keep) return c;
  const std::string tok = kImageToken;
  for (const Message& m : c.messages)
    if (!stays(m.content, tok, placement)) {
      copy_reusing(c, scratch);
      place_images(scratch, placement);
      return scratch;
    }
  return c;
}

void place_images(Conversation& c, ImagePlacement placement) {
  if (placement == ImagePlacement::keep) return;
  const std::string tok = kImageToken;
  thread_local std::string moved;
  for (Message& m : c.messages) {
    if (count_occurrences(m.content, tok) != 1) continue;  // several stay in place (LLaVA would merge them)
    // LLaVA-NeXT's preprocess_multimodal leaves a message that starts with <image> as it is.
    if (placement == ImagePlacement::llava_next && m.content.compare(0, tok.size(), tok) == 0) continue;
    // LLaVA preprocess_multimodal: remove, strip, prepend "<image>\n", strip. That is the text
    // around the placeholder stripped as one string, after "<image>\n" ("<image>" alone when
    // nothing is left), put together once from views (no string per step).
    const std::string_view all = m.content;
    const size_t at = all.find(tok);
    std::string_view before = unicode::py_lstrip(all.substr(0, at)), after = all.substr(at + tok.size());
    if (before.empty()) after = unicode::py_lstrip(after);
    after = unicode::py_rstrip(after);
    if (after.empty()) before = unicode::py_rstrip(before);
    moved.assign(tok);
    if (!before.empty() || !after.empty()) {
      moved += '\n';
      moved += before;
      moved += after;
    }
    m.content.assign(moved);
  }
}

namespace {

struct Emitter {
  Rendered& out;
  const Template& t;
  void add(SegmentKind k, Role r, int32_t turn, Place p, std::string_view text) {
    if (text.empty()) return;
    out.segments.push_back(Segment{k, r, turn, p, text});
  }
  void content(SegmentKind k, Role r, int32_t turn, std::string_view text) { append_message_text(out, t, k, r, turn, text); }
  void system_block(std::string_view sys) {
    if (sys.empty() && !t.system_if_empty) return;
    for (const FormatPiece& p : t.system_format) {
      if (p.kind == FormatPiece::system) content(SegmentKind::system, Role::system, -1, sys);
      else add(SegmentKind::scaffolding, Role::system, -1, Place::outside, p.literal);
    }
  }
};

bool problem(Problem& p, std::string reason, std::string field, std::string message) {
  p = Problem{std::move(reason), std::move(field), std::move(message)};
  return false;
}

}  // namespace

bool Template::render(const Conversation& c, Rendered& out, Problem& p) const {
  if (hf) return render_hf_segments(*this, c, out, p);
  out.clear();
  assign_reusing(out.images, c.images, out.spare_images);
  const auto& msgs = c.messages;
  size_t first = 0;
  std::string_view sys = system ? std::string_view(*system) : std::string_view();
  if (!msgs.empty() && msgs[0].role == Role::system) {
    if (!system) return problem(p, "system_not_supported", "messages[0]", "template '" + name + "' has no system prompt");
    sys = msgs[0].content;
    first = 1;
  }
  if (msgs.size() == first) return problem(p, "no_messages", "messages", "no user or assistant message");
  for (size_t i = first; i < msgs.size(); ++i) {
    const Role want = (i - first) % 2 == 0 ? Role::user : Role::assistant;
    auto field = [i] { return "messages[" + std::to_string(i) + "]"; };  // only for a problem: no string per message
    if (msgs[i].role == Role::system)
      return problem(p, "system_not_first", field(), "a system message may only come first");
    if (msgs[i].role != want)
      return problem(p, "not_alternating", field(),
                     std::string("expected a ") + role_name(want) + " message, found " + role_name(msgs[i].role));
    if (want == Role::assistant && py_strip(msgs[i].content).empty())
      return problem(p, "empty_assistant_turn", field(), "the assistant message is empty");
  }
  if (msgs.back().role != Role::assistant)
    return problem(p, "ends_with_user", "messages[" + std::to_string(msgs.size() - 1) + "]",
                   "the conversation ends with a user message that has no answer");
  size_t placeholders = 0;
  for (const Message& m : msgs) placeholders += count_occurrences(m.content, kImageToken);
  if (placeholders != c.images.size())
    return problem(p, "image_count_mismatch", "images",
                   std::to_string(placeholders) + " <image> placeholder(s) in the text but " +
                       std::to_string(c.images.size()) + " image(s) in the record");

  if (user_content_images_only) {
    if (msgs.size() - first != 2)
      return problem(p, "bad_plain_sample", "messages", "template '" + name + "' takes exactly one user and one assistant message");
    if (count_occurrences(msgs[first].content, kImageToken) == 0)
      return problem(p, "bad_plain_sample", "messages[" + std::to_string(first) + "]", "the user message has no <image>");
  }
  Emitter e{out, *this};
  e.add(SegmentKind::scaffolding, Role::system, -1, Place::outside, prefix);
  if (trim_content) sys = py_strip(sys);
  if (!system_in_first_user) e.system_block(sys);
  bool first_user_done = false;
  for (size_t i = first; i < msgs.size(); ++i) {
    const Message& m = msgs[i];
    const int32_t turn = static_cast<int32_t>(i);
    const bool is_user = m.role == Role::user;
    const Format& f = is_user ? (has_first_user && !first_user_done ? first_user : user) : assistant;
    if (is_user) first_user_done = true;
    std::string_view text = m.content;
    if (trim_content) text = py_strip(text);
    if (is_user && user_content_images_only) {
      std::string images_only;
      for (size_t k = count_occurrences(m.content, kImageToken); k; --k) images_only += kImageToken;
      text = out.keep(std::move(images_only));
    }
    const SegmentKind kind = is_user ? SegmentKind::user : SegmentKind::assistant;
    Place place = Place::before;
    for (const FormatPiece& piece : f) {
      switch (piece.kind) {
        case FormatPiece::text: e.add(SegmentKind::scaffolding, m.role, turn, place, piece.literal); break;
        case FormatPiece::content:
          e.content(kind, m.role, turn, text);
          place = Place::between;
          break;
        case FormatPiece::eot:
          e.add(SegmentKind::end_of_turn, m.role, turn, Place::between, eot);
          place = Place::after;
          break;
        case FormatPiece::system: e.system_block(sys); break;
      }
    }
  }
  return true;
}

const Template& TemplateRegistry::find(const std::string& name) const {
  for (const Template& t : templates_) {
    if (t.name == name) return t;
    for (const std::string& a : t.aliases)
      if (a == name) return t;
  }
  std::string known;
  for (const std::string& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown template '" + name + "' (known: " + known +
              "; or describe your own in JSON and pass it with --template-file)");
}

std::vector<std::string> TemplateRegistry::names() const {
  std::vector<std::string> n;
  for (const Template& t : templates_) {
    n.push_back(t.name);
    for (const std::string& a : t.aliases) n.push_back(a);
  }
  std::sort(n.begin(), n.end());
  return n;
}

void TemplateRegistry::add(Template t) {
  std::vector<std::string> mine = t.aliases;
  mine.push_back(t.name);
  for (const std::string& n : mine)
    for (const std::string& have : names())
      if (n == have) throw Error("template name '" + n + "' is defined twice");
  templates_.push_back(std::move(t));
}

}  // namespace tokalign::chat

namespace tokalign::chat {

const TemplateRegistry& TemplateRegistry::builtin() {
  static const TemplateRegistry reg = [] {
    TemplateRegistry r;
    for (const TemplateSource& s : builtin_template_sources()) r.add(Template::from_json(s.json, std::string(s.file)));
    return r;
  }();
  return reg;
}

}  // namespace tokalign::chat
