#include "compile/compiler.h"

#include <algorithm>

#include "unicode/categories.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "vision/image_probe.h"

namespace tokalign::compile {

using chat::Place;
using chat::Problem;
using chat::Rendered;
using chat::Role;
using chat::Segment;
using chat::SegmentKind;

namespace {

bool fail(Problem& p, std::string reason, std::string field, std::string message) {
  p = Problem{std::move(reason), std::move(field), std::move(message)};
  return false;
}

// A segment's place inside one text chunk, in bytes and in chars (encode offsets are chars).
struct SegSpan {
  size_t seg;
  uint32_t byte_start, byte_end;
  uint32_t char_start, char_end;
};

// Encodes text chunks as LLaVA's tokenizer_image_token does: each chunk on its own, the first
// chunk's leading post-processor tokens (BOS) kept once and dropped from later chunks. Calls
// emit(chunk index, encoding, index of its first kept token).
template <class Options, class Emit>
void encode_chunks(const tok::Tokenizer& t, size_t chunks, const Options& options_of, const Emit& emit) {
  size_t lead = 0;
  for (size_t k = 0; k < chunks; ++k) {
    auto [text, o] = options_of(k);
    const tok::Encoding en = t.encode(text, o);
    size_t n_lead = 0;
    while (n_lead < en.ids.size() && en.special_mask[n_lead]) ++n_lead;
    if (k == 0) lead = n_lead;
    emit(k, en, k == 0 ? 0 : std::min(lead, n_lead));
  }
}

}  // namespace

struct Compiler::Encoded {
  struct Chunk {
    std::string text;
    std::vector<SegSpan> segs;
    std::vector<std::pair<size_t, size_t>> special_ranges;  // bytes
    std::vector<uint32_t> char_to_byte;                     // chars + 1 entries
  };
  struct Tok {
    int32_t chunk = -1;  // -1: an image token
    uint32_t start = 0, end = 0;  // chars in the chunk
    bool added = false;  // put there by the post-processor (BOS, EOS)
  };
  std::vector<Chunk> chunks;
  std::vector<uint8_t> trained;  // per segment
  std::vector<int32_t> ids, labels;
  std::vector<Tok> toks;
  std::vector<ImageSlot> images;
  std::vector<ImageSlot> image_info;  // in: per image, width / height / visual_tokens (vision policy)
  uint32_t boundary_merges = 0;
  bool special_in_content = false;
  std::vector<std::string> special_strings;
};

Compiler::Compiler(const tok::Tokenizer& tokenizer, const chat::Template& tmpl, Options options)
    : tok_(tokenizer), tmpl_(tmpl), opts_(std::move(options)), wrapped_(tmpl) {
  wrapped_.image_before = tmpl.image_before + opts_.image_start;
  wrapped_.image_after = opts_.image_end + tmpl.image_after;
  llava_labels_ = opts_.labels == LabelMode::llava        ? &tmpl_.llava
                  : opts_.labels == LabelMode::llava_next ? &tmpl_.llava_next
                                                          : nullptr;
  if (const chat::LlavaLabels* ll = llava_labels_) {
    tok::EncodeOptions o;
    o.add_special_tokens = false;
    for (const std::string& s : ll->everywhere) {
      tok::Encoding en = tok_.encode(s, o);
      if (en.ids.size() == 1) everywhere_ids_.push_back(en.ids[0]);
    }
  }
  for (const tok::AddedToken& t : tok_.added_vocabulary().tokens())
    if (t.special && !t.content.empty()) special_contents_.push_back(t.content);
}

bool Compiler::render(const chat::Conversation& c, Rendered& out, Problem& problem) const {
  chat::Conversation placed = c;
  chat::place_images(placed, opts_.placement);
  return wrapped_.render(placed, out, problem);
}

bool Compiler::segment_trained(const Segment& g, int32_t last_turn_of_role[3]) const {
  if (g.kind == SegmentKind::image) return false;
  if (opts_.train_on_prompt) return true;
  if (!opts_.roles.count(g.role)) return false;
  if (opts_.last_turn_only && g.turn >= 0 && g.turn != last_turn_of_role[static_cast<int>(g.role)]) return false;
  switch (g.kind) {
    case SegmentKind::system:
    case SegmentKind::user:
    case SegmentKind::assistant: return true;
    case SegmentKind::end_of_turn: return opts_.train_eos;
    case SegmentKind::scaffolding: {
      if (g.role != Role::assistant || g.turn < 0) return false;
      const chat::LlavaLabels* ll = llava_labels_;
      if (!ll) return false;
      return g.place == Place::before ? ll->assistant_header : g.place == Place::between ? ll->between : ll->after_eot;
    }
    case SegmentKind::image: return false;
  }
  return false;
}

void Compiler::encode(const Rendered& r, Encoded& e) const {
  const auto& segs = r.segments;
  int32_t last_turn[3] = {-1, -1, -1};
  for (const Segment& g : segs) last_turn[static_cast<int>(g.role)] = std::max(last_turn[static_cast<int>(g.role)], g.turn);
  e.trained.resize(segs.size());
  for (size_t i = 0; i < segs.size(); ++i) e.trained[i] = segment_trained(segs[i], last_turn);

  // Cut the prompt at images into text chunks.
  e.chunks.emplace_back();
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& g = segs[i];
    if (g.kind == SegmentKind::image) {
      e.chunks.emplace_back();
      continue;
    }
    Encoded::Chunk& ch = e.chunks.back();
    const uint32_t b0 = static_cast<uint32_t>(ch.text.size());
    const uint32_t c0 = ch.char_to_byte.empty() ? 0 : static_cast<uint32_t>(ch.char_to_byte.size() - 1);
    if (ch.char_to_byte.empty()) ch.char_to_byte.push_back(0);
    ch.text += g.text;
    for (size_t k = b0; k < ch.text.size(); k += unicode::char_len(static_cast<unsigned char>(ch.text[k]))) {
      ch.char_to_byte.back() = static_cast<uint32_t>(k);
      ch.char_to_byte.push_back(static_cast<uint32_t>(k + unicode::char_len(static_cast<unsigned char>(ch.text[k]))));
    }
    ch.char_to_byte.back() = static_cast<uint32_t>(ch.text.size());
    const uint32_t c1 = static_cast<uint32_t>(ch.char_to_byte.size() - 1);
    ch.segs.push_back({i, b0, static_cast<uint32_t>(ch.text.size()), c0, c1});
    if (g.parse_special()) {
      if (!ch.special_ranges.empty() && ch.special_ranges.back().second == b0) ch.special_ranges.back().second = ch.text.size();
      else ch.special_ranges.emplace_back(b0, ch.text.size());
    } else if (g.kind == SegmentKind::user || g.kind == SegmentKind::assistant || g.kind == SegmentKind::system) {
      for (const std::string& s : special_contents_)
        if (g.text.find(s) != std::string::npos) {
          e.special_in_content = true;
          if (std::find(e.special_strings.begin(), e.special_strings.end(), s) == e.special_strings.end())
            e.special_strings.push_back(s);
        }
    }
  }
  for (Encoded::Chunk& ch : e.chunks)
    if (ch.char_to_byte.empty()) ch.char_to_byte.push_back(0);

  // Encode each chunk; special tokens parsed only in the chunk's template text.
  auto options_of = [&](size_t k) {
    const Encoded::Chunk& ch = e.chunks[k];
    tok::EncodeOptions o;
    o.add_special_tokens = tmpl_.add_special_tokens;
    o.offsets = true;
    o.parse_special = opts_.parse_special_in_content || !ch.special_ranges.empty();
    if (!opts_.parse_special_in_content) o.special_ranges = ch.special_ranges;
    return std::pair<std::string_view, tok::EncodeOptions>(ch.text, o);
  };
  encode_chunks(tok_, e.chunks.size(), options_of, [&](size_t k, const tok::Encoding& en, size_t skip) {
    for (size_t j = skip; j < en.ids.size(); ++j) {
      e.ids.push_back(static_cast<int32_t>(en.ids[j]));
      e.toks.push_back({static_cast<int32_t>(k), en.offsets[j].first, en.offsets[j].second, en.special_mask[j] != 0});
    }
    if (k + 1 == e.chunks.size()) return;
    ImageSlot slot;
    slot.position = static_cast<uint32_t>(e.ids.size());
    slot.path = k < r.images.size() ? r.images[k] : std::string();
    const bool expand = opts_.image_tokens == ImageTokens::expand;
    if (k < e.image_info.size()) {
      slot.width = e.image_info[k].width;
      slot.height = e.image_info[k].height;
      slot.visual_tokens = e.image_info[k].visual_tokens;
    }
    slot.token_count = !expand ? 1 : slot.visual_tokens ? slot.visual_tokens : opts_.image_token_count;
    for (uint32_t t = 0; t < slot.token_count; ++t) {
      e.ids.push_back(expand ? static_cast<int32_t>(opts_.image_token_id) : kImagePlaceholder);
      e.toks.push_back({-1, 0, 0, false});
    }
    e.images.push_back(std::move(slot));
  });

  // Labels through offsets: a token is trained when it covers a trained character.
  e.labels.assign(e.ids.size(), kIgnoreIndex);
  for (size_t t = 0; t < e.toks.size(); ++t) {
    const Encoded::Tok& tk = e.toks[t];
    if (tk.chunk < 0 || tk.added) continue;
    if (std::find(everywhere_ids_.begin(), everywhere_ids_.end(), static_cast<uint32_t>(e.ids[t])) != everywhere_ids_.end()) {
      e.labels[t] = e.ids[t];
      continue;
    }
    if (tk.end <= tk.start) continue;
    const Encoded::Chunk& ch = e.chunks[static_cast<size_t>(tk.chunk)];
    auto it = std::upper_bound(ch.segs.begin(), ch.segs.end(), tk.start,
                               [](uint32_t v, const SegSpan& s) { return v < s.char_end; });
    bool any_trained = false, untrained_text = false;
    for (; it != ch.segs.end() && it->char_start < tk.end; ++it) {
      if (it->char_end <= it->char_start) continue;
      if (e.trained[it->seg]) {
        any_trained = true;
        continue;
      }
      // The untrained characters this token covers: a leading space merged into the next
      // word (LLaVA's "-2") is expected; anything else is a boundary merge.
      const uint32_t a = ch.char_to_byte[std::max(tk.start, it->char_start)];
      const uint32_t b = ch.char_to_byte[std::min(tk.end, it->char_end)];
      for (size_t i = a; i < b;) {
        const char32_t c = unicode::decode(ch.text, i);
        if (!unicode::is_whitespace(c)) untrained_text = true;
      }
    }
    if (any_trained) {
      e.labels[t] = e.ids[t];
      if (untrained_text) ++e.boundary_merges;
    }
  }
}

bool Compiler::verify(const Rendered& r, const Encoded& e, const Sample& s, Problem& p) const {
  const size_t vocab = tok_.vocab_size();
  for (size_t i = 0; i < s.input_ids.size(); ++i) {
    const int32_t id = s.input_ids[i];
    if (id == kImagePlaceholder && e.toks[i].chunk < 0) continue;
    if (id < 0 || static_cast<size_t>(id) >= vocab)
      return fail(p, "verify_id_range", "input_ids[" + std::to_string(i) + "]",
                  "id " + std::to_string(id) + " is outside the vocabulary (size " + std::to_string(vocab) + ")");
  }
  if (s.images.size() != r.images.size())
    return fail(p, "verify_image_slots", "images",
                std::to_string(s.images.size()) + " image slots for " + std::to_string(r.images.size()) + " images");
  for (size_t i = 0; i < s.labels.size(); ++i)
    if (s.labels[i] != kIgnoreIndex && e.toks[i].chunk < 0)
      return fail(p, "verify_image_label", "labels[" + std::to_string(i) + "]", "an image token carries a label");
  if (s.trained_tokens() == 0) return fail(p, "zero_trained", "labels", "no token is trained");

  // Per chunk: every character of trained text is covered by a trained token, and every
  // trained token (other than the ones trained everywhere) covers trained text.
  for (size_t k = 0; k < e.chunks.size(); ++k) {
    const Encoded::Chunk& ch = e.chunks[k];
    std::vector<uint8_t> covered(ch.char_to_byte.size(), 0), want(ch.char_to_byte.size(), 0);
    for (const SegSpan& ss : ch.segs)
      if (e.trained[ss.seg])
        for (uint32_t c = ss.char_start; c < ss.char_end; ++c) want[c] = 1;
    for (size_t t = 0; t < e.toks.size(); ++t) {
      const Encoded::Tok& tk = e.toks[t];
      if (tk.chunk != static_cast<int32_t>(k) || s.labels[t] == kIgnoreIndex) continue;
      bool hits = false;
      for (uint32_t c = tk.start; c < tk.end && c < covered.size(); ++c) {
        covered[c] = 1;
        hits |= want[c] != 0;
      }
      const bool everywhere = std::find(everywhere_ids_.begin(), everywhere_ids_.end(),
                                        static_cast<uint32_t>(s.input_ids[t])) != everywhere_ids_.end();
      if (!hits && !everywhere)
        return fail(p, "verify_untrained_text_labelled", "labels[" + std::to_string(t) + "]",
                    "a token over untrained text carries a label");
    }
    for (size_t c = 0; c + 1 < want.size(); ++c)
      if (want[c] && !covered[c])
        return fail(p, "verify_trained_text_unlabelled", "labels",
                    "trained text at character " + std::to_string(c) + " of chunk " + std::to_string(k) +
                        " has no trained token");
  }

  // Decoding each trained assistant turn gives back its text (and end-of-turn).
  for (size_t k = 0; k < e.chunks.size(); ++k) {
    const Encoded::Chunk& ch = e.chunks[k];
    for (size_t a = 0; a < ch.segs.size();) {
      const Segment& g = r.segments[ch.segs[a].seg];
      if (g.kind != SegmentKind::assistant || !e.trained[ch.segs[a].seg]) {
        ++a;
        continue;
      }
      // The turn's trained segments in this chunk.
      uint32_t c0 = ch.segs[a].char_start, c1 = ch.segs[a].char_end;
      size_t b = a + 1;
      while (b < ch.segs.size() && r.segments[ch.segs[b].seg].turn == g.turn) {
        if (e.trained[ch.segs[b].seg]) c1 = ch.segs[b].char_end;
        ++b;
      }
      // The text the turn's trained tokens cover, in order (untrained tokens in between,
      // like the space before Mistral's " </s>", are left out on both sides).
      std::vector<uint32_t> ids;
      std::string expected;
      uint32_t done = 0;
      for (size_t t = 0; t < e.toks.size(); ++t) {
        const Encoded::Tok& tk = e.toks[t];
        if (tk.chunk != static_cast<int32_t>(k) || s.labels[t] == kIgnoreIndex || tk.end <= c0 || tk.start >= c1) continue;
        ids.push_back(static_cast<uint32_t>(s.input_ids[t]));
        const uint32_t from = std::max(done, tk.start);
        if (tk.end > from) expected.append(ch.text, ch.char_to_byte[from], ch.char_to_byte[tk.end] - ch.char_to_byte[from]);
        done = std::max(done, tk.end);
      }
      const std::string got = tok_.decode(ids);
      auto same = [](const std::string& x, const std::string& want) {
        return x == want || (!want.empty() && want[0] == ' ' && x == std::string_view(want).substr(1));
      };
      bool ok = same(got, expected);
      if (!ok) {
        // Some tokenizers do not decode back to their input (Yi's tokenizer.json turns
        // ", with" into ",", "▁▁", "with" and decodes two spaces). Then the span must decode
        // like the same text encoded on its own does.
        tok::EncodeOptions o;
        o.add_special_tokens = false;
        const tok::Encoding alone = tok_.encode(expected, o);
        ok = same(got, tok_.decode(alone.ids)) || same(tok_.decode(alone.ids), got);
      }
      if (!ok)
        return fail(p, "verify_decode", "messages[" + std::to_string(g.turn) + "]",
                    "decoding the trained tokens gives \"" + got + "\", expected \"" + expected + "\"");
      a = b;
    }
  }
  return true;
}

void Compiler::provenance(const Rendered& r, const Encoded& e, Sample& out) const {
  out.provenance.resize(e.toks.size());
  // Where each chunk starts in the rendered prompt, in chars.
  std::vector<uint32_t> base(e.chunks.size(), 0);
  for (size_t k = 1; k < e.chunks.size(); ++k)
    base[k] = base[k - 1] + static_cast<uint32_t>(e.chunks[k - 1].char_to_byte.size() - 1) + 7;  // + "<image>"
  size_t image = 0;
  for (size_t t = 0; t < e.toks.size(); ++t) {
    const Encoded::Tok& tk = e.toks[t];
    shard::TokenProvenance& p = out.provenance[t];
    if (tk.chunk < 0) {  // an image token: its slot's image segment
      size_t seen = 0;
      for (const Segment& g : r.segments)
        if (g.kind == SegmentKind::image && seen++ == image) {
          p = {"image", chat::role_name(g.role), g.turn, {}};
          p.start = base[image] + static_cast<uint32_t>(e.chunks[image].char_to_byte.size() - 1);
          p.end = p.start + 7;
          break;
        }
      if (t + 1 >= e.toks.size() || e.toks[t + 1].chunk >= 0) ++image;
      continue;
    }
    const Encoded::Chunk& ch = e.chunks[static_cast<size_t>(tk.chunk)];
    if (tk.added) {
      p = {"added", "system", -1, {}};
      p.start = p.end = base[static_cast<size_t>(tk.chunk)] + tk.start;
      continue;
    }
    p.text = ch.text.substr(ch.char_to_byte[tk.start], ch.char_to_byte[tk.end] - ch.char_to_byte[tk.start]);
    p.start = base[static_cast<size_t>(tk.chunk)] + tk.start;
    p.end = base[static_cast<size_t>(tk.chunk)] + tk.end;
    if (t > 0 && e.toks[t - 1].chunk == tk.chunk && !e.toks[t - 1].added && e.toks[t - 1].start == tk.start &&
        e.toks[t - 1].end == tk.end && tk.end > tk.start)
      p.shares_text = out.provenance[t - 1].shares_text = true;
    const SegSpan* pick = nullptr;
    for (const SegSpan& ss : ch.segs) {
      if (ss.char_end <= tk.start || ss.char_start >= std::max(tk.end, tk.start + 1)) continue;
      if (!pick || (out.labels[t] != kIgnoreIndex && e.trained[ss.seg] && !e.trained[pick->seg])) pick = &ss;
    }
    if (!pick) {
      p.segment = "scaffolding";
      p.role = "system";
      continue;
    }
    const Segment& g = r.segments[pick->seg];
    p.segment = chat::segment_kind_name(g.kind);
    p.role = chat::role_name(g.role);
    p.turn = g.turn;
  }
  // What Hugging Face's defaults give for the same prompt (special tokens parsed in message
  // text too); kept only where it differs.
  std::vector<int32_t> ref;
  auto defaults = [&](size_t k) {
    tok::EncodeOptions o;
    o.add_special_tokens = tmpl_.add_special_tokens;
    return std::pair<std::string_view, tok::EncodeOptions>(e.chunks[k].text, o);
  };
  encode_chunks(tok_, e.chunks.size(), defaults, [&](size_t k, const tok::Encoding& en, size_t skip) {
    for (size_t j = skip; j < en.ids.size(); ++j) ref.push_back(static_cast<int32_t>(en.ids[j]));
    if (k + 1 < e.chunks.size())
      ref.insert(ref.end(), out.images[k].token_count, out.input_ids[out.images[k].position]);
  });
  if (ref != out.input_ids) out.reference_ids = std::move(ref);
}

bool Compiler::compile(const chat::Conversation& c, Sample& out, Problem& problem) const {
  chat::Conversation conv = c;
  chat::place_images(conv, opts_.placement);
  out = Sample{};
  out.id = c.id;
  // With a vision policy, every image's size from its header and its count.
  std::vector<ImageSlot> info;
  if (opts_.vision) {
    for (size_t k = 0; k < conv.images.size(); ++k) {
      try {
        const vision::ImageInfo im = vision::probe_image_file(vision::resolve_image_path(opts_.image_root, conv.images[k]));
        ImageSlot x;
        x.width = im.width;
        x.height = im.height;
        x.visual_tokens = static_cast<uint32_t>(vision::count_tokens(*opts_.vision, im.width, im.height).tokens);
        info.push_back(x);
      } catch (const Error& err) {
        return fail(problem, "image_unreadable", "images[" + std::to_string(k) + "]", err.what());
      }
    }
  }
  for (;;) {
    Rendered r;
    if (!wrapped_.render(conv, r, problem)) return false;
    Encoded e;
    e.image_info = info;
    encode(r, e);
    // The length the model sees: placeholders count as their expansion.
    const size_t length = Sample::with_images(e.ids.size(), e.images);
    if (opts_.max_len && length > opts_.max_len) {
      // Drop the earliest user/assistant pair (and its images) and try again.
      const size_t first = !conv.messages.empty() && conv.messages[0].role == Role::system ? 1 : 0;
      if (conv.messages.size() - first <= 2)
        return fail(problem, "too_long", "messages",
                    std::to_string(length) + " tokens" + (length != e.ids.size() ? " (images counted)" : "") +
                        ", over --max-len " + std::to_string(opts_.max_len) +
                        (out.dropped_turns ? " after dropping " + std::to_string(out.dropped_turns) + " earlier messages"
                                           : std::string()));
      size_t imgs = 0;
      for (size_t i = first; i < first + 2; ++i) imgs += chat::count_occurrences(conv.messages[i].content, chat::kImageToken);
      conv.messages.erase(conv.messages.begin() + static_cast<long>(first), conv.messages.begin() + static_cast<long>(first + 2));
      conv.images.erase(conv.images.begin(), conv.images.begin() + static_cast<long>(std::min(imgs, conv.images.size())));
      info.erase(info.begin(), info.begin() + static_cast<long>(std::min(imgs, info.size())));
      out.dropped_turns += 2;
      out.flags |= kTruncated;
      continue;
    }
    if (opts_.keep_segments)
      for (const Segment& g : r.segments)
        out.segments.push_back({chat::segment_kind_name(g.kind), g.text, chat::role_name(g.role), g.turn});
    out.special_strings = e.special_strings;
    out.input_ids = std::move(e.ids);
    out.labels = std::move(e.labels);
    out.images = std::move(e.images);
    if (opts_.keep_provenance) provenance(r, e, out);
    out.boundary_merges = e.boundary_merges;
    if (e.boundary_merges) out.flags |= kBoundaryMerge;
    if (e.special_in_content) out.flags |= kSpecialInContent;
    // verify reads ids and labels from the sample.
    return verify(r, e, out, problem);
  }
}

}  // namespace tokalign::compile
