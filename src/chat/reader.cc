#include "chat/reader.h"

#include <simdjson.h>

#include "util/error.h"
#include "util/reuse.h"

namespace tokalign::chat {

namespace dom = simdjson::dom;

const char* role_name(Role r) {
  switch (r) {
    case Role::system: return "system";
    case Role::user: return "user";
    case Role::assistant: return "assistant";
  }
  return "?";
}

std::string SourcePos::describe() const {
  std::string s = file;
  if (line) s.append(":").append(std::to_string(line));
  s += " (record " + std::to_string(index) + ", byte " + std::to_string(byte_offset) + ")";
  return s;
}

void copy_reusing(const Conversation& from, Conversation& to) {
  thread_local std::vector<Message> spare_messages;
  thread_local std::vector<std::string> spare_images;
  to.id = from.id;
  to.pos = from.pos;
  assign_reusing(to.messages, from.messages, spare_messages);
  assign_reusing(to.images, from.images, spare_images);
}

size_t count_occurrences(const std::string& s, const std::string& needle) {
  if (needle.empty()) return 0;
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

InputFormat parse_input_format(const std::string& name) {
  if (name == "auto") return InputFormat::auto_detect;
  if (name == "llava" || name == "sharegpt") return InputFormat::llava;
  if (name == "messages" || name == "openai") return InputFormat::messages;
  throw Error("unknown input format '" + name + "' (known: auto, llava, sharegpt, messages, openai)");
}

struct ConversationReader::Impl {
  dom::parser parser;
  // What records with fewer messages or images than the one before dropped (util/reuse.h).
  std::vector<Message> spare_messages;
  std::vector<std::string> spare_images;
};

ConversationReader::ConversationReader(InputFormat format) : impl_(new Impl), format_(format) {}
ConversationReader::~ConversationReader() { delete impl_; }

namespace {

// Thrown inside read() to report a Problem; never leaves this file.
struct Bad {
  Problem p;
};
[[noreturn]] void bad(std::string reason, std::string field, std::string message) {
  throw Bad{Problem{std::move(reason), std::move(field), std::move(message)}};
}

std::optional<Role> role_from(std::string_view s) {
  if (s == "human" || s == "user") return Role::user;
  if (s == "gpt" || s == "assistant" || s == "model" || s == "chatgpt" || s == "bard" || s == "bing")
    return Role::assistant;
  if (s == "system") return Role::system;
  return std::nullopt;
}

std::string_view need_string(dom::element e, const std::string& field) {
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) bad("bad_field", field, "expected a string");
  return s;
}

void add_image_list(dom::element e, const std::string& field, std::vector<std::string>& out,
                    std::vector<std::string>& spare) {
  if (e.is_null()) return;
  if (e.is_string()) {
    grow_one(out, spare).assign(need_string(e, field));
    return;
  }
  dom::array a;
  if (e.get(a) != simdjson::SUCCESS) bad("bad_field", field, "expected a string or a list of strings");
  size_t i = 0;
  for (dom::element x : a) {
    const std::string f = field + "[" + std::to_string(i++) + "]";
    if (x.is_string()) {
      grow_one(out, spare).assign(need_string(x, f));
      continue;
    }
    // LLaMA-Factory and HF datasets sometimes hold {"path": ...}.
    dom::object o;
    std::string_view p;
    if (x.get(o) == simdjson::SUCCESS && (o["path"].get(p) == simdjson::SUCCESS || o["url"].get(p) == simdjson::SUCCESS)) {
      grow_one(out, spare).assign(p);
      continue;
    }
    bad("bad_field", f, "expected an image path (a string)");
  }
}

// OpenAI / HF content parts: text parts concatenated, `<image>` where an image part is.
std::string content_parts(dom::array parts, const std::string& field, std::vector<std::string>& part_images) {
  std::string out;
  size_t i = 0;
  for (dom::element part : parts) {
    const std::string f = field + "[" + std::to_string(i++) + "]";
    dom::object o;
    if (part.get(o) != simdjson::SUCCESS) bad("bad_field", f, "expected a content part object");
    std::string_view type;
    if (o["type"].get(type) != simdjson::SUCCESS) bad("bad_field", f + ".type", "expected a string");
    if (type == "text") {
      std::string_view t;
      if (o["text"].get(t) != simdjson::SUCCESS) bad("bad_field", f + ".text", "expected a string");
      out += t;
    } else if (type == "image" || type == "image_url") {
      out += kImageToken;
      std::string_view p;
      dom::object u;
      if (o["image"].get(p) == simdjson::SUCCESS || o["path"].get(p) == simdjson::SUCCESS ||
          o["url"].get(p) == simdjson::SUCCESS ||
          (o["image_url"].get(u) == simdjson::SUCCESS && u["url"].get(p) == simdjson::SUCCESS) ||
          o["image_url"].get(p) == simdjson::SUCCESS)
        part_images.emplace_back(p);
    } else {
      bad("unsupported_content", f + ".type", "content part type '" + std::string(type) + "' is not supported (text, image, image_url)");
    }
  }
  return out;
}

}  // namespace

bool ConversationReader::read(std::string_view record, const SourcePos& pos, Conversation& out, Problem& problem) {
  // The conversation's storage (message strings, image paths) is reused from record to record;
  // field names for problems are built only when there is one.
  out.id.assign(1, '#').append(std::to_string(pos.index));
  shrink_to(out.images, 0, impl_->spare_images);
  out.pos = pos;
  size_t n_messages = 0;
  try {
    dom::element doc;
    auto err = impl_->parser.parse(record.data(), record.size(), true).get(doc);
    if (err == simdjson::UTF8_ERROR) bad("invalid_utf8", "", "the record is not valid UTF-8");
    if (err) bad("malformed_json", "", std::string("malformed JSON: ") + simdjson::error_message(err));
    dom::object obj;
    if (doc.get(obj) != simdjson::SUCCESS) bad("bad_record", "", "expected a JSON object");

    // The fields this reader looks at, in one pass over the record's keys (a lookup by name
    // scans them each time). Of duplicate keys the last counts, as in Python's json.load,
    // which LLaVA's train.py and HF's loaders read datasets with.
    dom::element idv, convs, msgs, image, images;
    bool has_id = false, has_convs = false, has_msgs = false, has_image = false, has_images = false;
    for (const dom::key_value_pair f : obj) {
      auto take = [&](bool& has, dom::element& e) {
        e = f.value;
        has = true;
      };
      if (f.key == "id") take(has_id, idv);
      else if (f.key == "conversations") take(has_convs, convs);
      else if (f.key == "messages") take(has_msgs, msgs);
      else if (f.key == "image") take(has_image, image);
      else if (f.key == "images") take(has_images, images);
    }
    if (has_id) {
      if (idv.is_string()) out.id = need_string(idv, "id");
      else if (idv.is_number()) out.id = simdjson::minify(idv);
    }

    bool llava = format_ == InputFormat::llava;
    if (format_ == InputFormat::auto_detect) {
      if (!has_convs && !has_msgs) bad("bad_record", "", "no \"conversations\" or \"messages\" list");
      llava = has_convs;
    }
    const char* list_name = llava ? "conversations" : "messages";
    if (!(llava ? has_convs : has_msgs))
      bad("bad_record", list_name, std::string("no \"") + list_name + "\" list");
    dom::array list;
    if ((llava ? convs : msgs).get(list) != simdjson::SUCCESS)
      bad("bad_field", list_name, std::string("expected a list \"") + list_name + "\"");

    if (has_image) add_image_list(image, "image", out.images, impl_->spare_images);
    if (has_images) add_image_list(images, "images", out.images, impl_->spare_images);

    std::vector<std::string> part_images;
    const std::string_view role_key = llava ? "from" : "role";
    const std::string_view text_key = llava ? "value" : "content";
    for (dom::element m : list) {
      const size_t i = n_messages;
      auto field = [&](std::string_view key) {  // "conversations[3].value"
        std::string f = std::string(list_name) + "[" + std::to_string(i) + "]";
        if (!key.empty()) f.append(".").append(key);
        return f;
      };
      dom::object mo;
      if (m.get(mo) != simdjson::SUCCESS) bad("bad_field", field({}), "expected a message object");
      dom::element rv, c;
      bool has_role = false, has_text = false;
      for (const dom::key_value_pair f : mo) {
        if (f.key == role_key) {
          rv = f.value;
          has_role = true;
        } else if (f.key == text_key) {
          c = f.value;
          has_text = true;
        }
      }
      std::string_view rs;
      if (!has_role || rv.get(rs) != simdjson::SUCCESS) bad("bad_field", field(role_key), "expected a string");
      auto role = role_from(rs);
      if (!role)
        bad("unknown_role", field(role_key),
            "unknown role '" + std::string(rs) + "' (known: human/user, gpt/assistant, system)");
      if (n_messages == out.messages.size()) grow_one(out.messages, impl_->spare_messages);
      Message& msg = out.messages[n_messages];
      msg.role = *role;
      if (!has_text) bad("bad_field", field(text_key), "missing");
      dom::array parts;
      std::string_view text;
      if (c.get(parts) == simdjson::SUCCESS) msg.content = content_parts(parts, field(text_key), part_images);
      else if (c.is_null()) msg.content.clear();  // null reads as empty
      else if (c.get(text) == simdjson::SUCCESS) msg.content.assign(text);
      else bad("bad_field", field(text_key), "expected a string");
      ++n_messages;
    }
    shrink_to(out.messages, n_messages, impl_->spare_messages);
    if (!part_images.empty()) {
      if (!out.images.empty())
        bad("ambiguous_images", "images", "images are named both in content parts and in the record's image list");
      out.images = std::move(part_images);
    }
    return true;
  } catch (Bad& b) {
    shrink_to(out.messages, n_messages, impl_->spare_messages);
    problem = std::move(b.p);
    return false;
  }
}

}  // namespace tokalign::chat
