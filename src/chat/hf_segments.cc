#include "chat/hf_segments.h"

#include <algorithm>

#include "chat/hf_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace tokalign::chat {

namespace {

// A content no real message has: control characters around a fixed word.
constexpr std::string_view kMarker = "\x02tokalign-content-marker\x03";

bool problem(Problem& p, std::string reason, std::string field, std::string message) {
  p = Problem{std::move(reason), std::move(field), std::move(message)};
  return false;
}

size_t common_prefix(std::string_view a, std::string_view b) {
  size_t n = 0;
  const size_t m = std::min(a.size(), b.size());
  while (n < m && a[n] == b[n]) ++n;
  return n;
}

jinja::Value message_value(const Message& m, std::string_view content) {
  jinja::Dict d;
  d.set("role", jinja::Value(role_name(m.role)));
  d.set("content", jinja::Value(std::string(content)));
  return jinja::Value(std::move(d));
}

struct Renderer {
  const HfChatTemplate& hf;
  const std::vector<Message>& msgs;
  std::string error;
  // Renders msgs[0, n), message `marked` (if < n) with the marker as its content.
  bool run(size_t n, bool gen, jinja::Rendered& out, size_t marked = SIZE_MAX) {
    jinja::List l;
    for (size_t i = 0; i < n; ++i) l.push_back(message_value(msgs[i], i == marked ? kMarker : std::string_view(msgs[i].content)));
    HfChatTemplate::Call call;
    call.messages = jinja::Value(std::move(l));
    call.add_generation_prompt = gen;
    try {
      out = hf.render(call);
      return true;
    } catch (const Error& e) {
      error = e.what();
      return false;
    }
  }
};

}  // namespace

Template hf_compile_template(const tok::Tokenizer& tokenizer, const ChatTemplateSource& source) {
  Template t;
  t.name = "hf";
  t.add_special_tokens = false;
  auto hf = std::make_shared<HfChatTemplate>(HfChatTemplate::load(source));
  t.description = "the model's own chat template (" + hf->origin() + ")";
  t.source = hf->origin();
  t.json = hf->text();
  t.hf = std::move(hf);
  for (const tok::AddedToken& a : tokenizer.added_vocabulary().tokens())
    if (a.special && !a.content.empty()) t.special_tokens.push_back(a.content);
  return t;
}

bool render_hf_segments(const Template& t, const Conversation& c, Rendered& out, Problem& p) {
  out.clear();
  assign_reusing(out.images, c.images, out.spare_images);
  const std::vector<Message>& msgs = c.messages;
  const size_t n = msgs.size();
  if (n == 0) return problem(p, "no_messages", "messages", "no messages");
  size_t placeholders = 0;
  for (const Message& m : msgs) {
    placeholders += count_occurrences(m.content, kImageToken);
    if (m.content.find(kMarker) != std::string::npos) return problem(p, "bad_content", "messages", "a message holds tokalign's content marker");
  }
  if (placeholders != c.images.size())
    return problem(p, "image_count_mismatch", "images",
                   std::to_string(placeholders) + " <image> placeholder(s) in the text but " + std::to_string(c.images.size()) +
                       " image(s) in the record");
  Renderer r{*t.hf, msgs, {}};
  jinja::Rendered full;
  if (!r.run(n, false, full)) return problem(p, "template_refused", "messages", r.error);
  const std::string& F = out.keep(std::move(full.text));  // the segments view it

  // Where each message starts in F.
  std::vector<size_t> start(n + 1, 0);
  start[n] = F.size();
  for (size_t i = 1; i < n; ++i) {
    jinja::Rendered part;
    if (!r.run(i, false, part))
      return problem(p, "template_refused", "messages[" + std::to_string(i) + "]",
                     "rendering the messages before this one fails: " + r.error);
    start[i] = common_prefix(part.text, F);
    if (start[i] < start[i - 1])
      return problem(p, "template_not_prefix_stable", "messages[" + std::to_string(i) + "]",
                     "the render of the earlier messages disagrees with the whole conversation's render");
  }

  auto emit = [&](SegmentKind k, Role role, int32_t turn, Place place, size_t a, size_t b) {
    if (b > a) out.segments.push_back(Segment{k, role, turn, place, std::string_view(F).substr(a, b - a)});
  };
  // The end of a turn: through the last special token in [a, b).
  auto eot_end = [&](size_t a, size_t b) {
    size_t end = a;
    for (const std::string& s : t.special_tokens) {
      if (s.empty()) continue;
      for (size_t at = F.find(s, a); at != std::string::npos && at + s.size() <= b; at = F.find(s, at + 1))
        end = std::max(end, at + s.size());
    }
    return end;
  };

  for (size_t i = 0; i < n; ++i) {
    const Message& m = msgs[i];
    const int32_t turn = static_cast<int32_t>(i);
    const std::string field = "messages[" + std::to_string(i) + "]";
    const size_t a = start[i], b = start[i + 1];
    // The message's text in F, found with the marker.
    jinja::Rendered marked;
    if (!r.run(i + 1, false, marked, i)) return problem(p, "template_refused", field, r.error);
    const std::string& S = marked.text;
    const size_t mk = S.find(kMarker);
    size_t cs = b, ce = b;
    bool content_dependent = false;
    if (mk != std::string::npos) {
      if (S.find(kMarker, mk + 1) != std::string::npos)
        return problem(p, "template_repeats_content", field, "the template writes this message's text more than once");
      content_dependent = mk < a || mk > b || S.compare(0, mk, F, 0, mk) != 0;
    }
    if (content_dependent && m.role != Role::assistant) {
      // Either the render of the conversation up to this message already disagrees with F
      // before it (a later message changes how this one renders), or only the marker did.
      if (i + 1 < n && start[i + 1] < mk)
        return problem(p, "template_not_prefix_stable", field,
                       "the template renders this message differently once later messages follow, so the "
                       "conversation's prompts are not prefixes of each other");
      return problem(p, "template_content_dependent", field,
                     "the text the template writes before this message depends on the message's text");
    }
    if (mk != std::string::npos && !content_dependent) {
      cs = mk;
      // The longest start of what follows the marker that ends this message's part of F.
      const std::string_view post = std::string_view(S).substr(mk + kMarker.size());
      size_t k = std::min(post.size(), b - cs);
      while (k > 0 && F.compare(b - k, k, post.substr(0, k)) != 0) --k;
      ce = b - k;
    }
    const bool has_text = cs < b || content_dependent;
    if (m.role != Role::assistant) {
      const SegmentKind kind = m.role == Role::system ? SegmentKind::system : SegmentKind::user;
      emit(SegmentKind::scaffolding, m.role, turn, Place::before, a, cs);
      if (has_text) append_message_text(out, t, kind, m.role, turn, std::string_view(F).substr(cs, ce - cs));
      emit(SegmentKind::scaffolding, m.role, turn, Place::after, ce, b);
      continue;
    }
    if (!has_text) {  // the template leaves this assistant message out
      emit(SegmentKind::scaffolding, m.role, turn, Place::outside, a, b);
      continue;
    }
    if (t.hf->uses_generation()) {
      // Trained: the {% generation %} blocks inside this message's part.
      std::vector<size_t> cuts = {a, cs, ce, b};
      std::vector<std::pair<size_t, size_t>> spans;
      for (auto [s, e] : full.generation) {
        if (e <= a || s >= b) continue;
        if (s < a || e > b)
          return problem(p, "template_generation_span", field, "a {% generation %} block runs over two messages");
        spans.emplace_back(s, e);
        cuts.push_back(s);
        cuts.push_back(e);
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        const size_t x = cuts[k], y = cuts[k + 1];
        if (x < a || y > b) continue;
        const bool trained = std::any_of(spans.begin(), spans.end(), [&](auto s) { return s.first <= x && y <= s.second; });
        if (x >= cs && y <= ce) append_message_text(out, t, SegmentKind::assistant, m.role, turn, std::string_view(F).substr(x, y - x));
        else if (!trained) emit(SegmentKind::scaffolding, m.role, turn, y <= cs ? Place::before : Place::after, x, y);
        else emit(y <= cs ? SegmentKind::assistant : SegmentKind::end_of_turn, m.role, turn, Place::between, x, y);
      }
      continue;
    }
    // The prompt the model is given for this message must be where F has it.
    jinja::Rendered prompt;
    if (!r.run(i, true, prompt))
      return problem(p, "template_refused", field, "rendering the prompt for this message fails: " + r.error);
    const size_t h = prompt.text.size();
    if (F.compare(0, h, prompt.text) != 0 || h < a || (!content_dependent && h > cs))
      return problem(p, "template_not_prefix_stable", field,
                     "the prompt for this message (the conversation before it with add_generation_prompt) is not how "
                     "the whole conversation begins: the template rewrites earlier turns, so training on it would "
                     "teach a prompt the model never sees");
    if (h >= b)
      return problem(p, "template_not_prefix_stable", field,
                     "the template renders this message differently once later messages follow (reasoning templates "
                     "drop the <think> block of earlier turns, for example): the text it would be trained on is not "
                     "what the model writes after its prompt");
    if (content_dependent) {
      // The template reshapes this message around its text (reasoning templates move a
      // <think> block): everything from the prompt to the end of turn is the model's.
      cs = h;
      ce = b;
      size_t last_special = b;
      for (const std::string& sp : t.special_tokens)
        if (!sp.empty())
          for (size_t at = F.find(sp, h); at != std::string::npos && at + sp.size() <= b; at = F.find(sp, at + 1))
            last_special = last_special == b ? at : std::max(last_special, at);
      ce = last_special;
    }
    emit(SegmentKind::scaffolding, m.role, turn, Place::before, a, h);
    emit(SegmentKind::assistant, m.role, turn, Place::between, h, cs);  // written by the template, generated by the model
    append_message_text(out, t, SegmentKind::assistant, m.role, turn, std::string_view(F).substr(cs, ce - cs));
    const size_t eot = eot_end(ce, b);
    emit(SegmentKind::end_of_turn, m.role, turn, Place::between, ce, eot);
    emit(SegmentKind::scaffolding, m.role, turn, Place::after, eot, b);
  }
  if (t.image_before.empty() && t.image_after.empty() && out.text() != F)
    return problem(p, "internal", "messages", "tokalign's segments of the template's render do not add up to it");
  return true;
}

}  // namespace tokalign::chat
