#include "audit/llava_preprocess.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "chat/template.h"
#include "util/error.h"
#include "tokenizer/tokenizer_config.h"

namespace tokalign::audit {

namespace {

constexpr int32_t kIgnore = -100, kImage = -200;
const std::string kImageTok = "<image>";

namespace fs = std::filesystem;
namespace dom = simdjson::dom;

struct Raised {
  std::string what;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// preprocess_multimodal with data_args.is_multimodal and no mm_use_im_start_end.
void preprocess_multimodal(LlavaSample& s, Impl impl, const LlavaConv& conv) {
  const bool mmtag = conv.version.find("mmtag") != std::string::npos;
  for (auto& [from, v] : s.sentences) {
    if (impl == Impl::llava) {
      if (v.find(kImageTok) != std::string::npos) {
        v = std::string(chat::py_strip(replace_all(v, kImageTok, "")));
        v = std::string(chat::py_strip(kImageTok + "\n" + v));
        if (mmtag) v = replace_all(v, kImageTok, "<Image>" + kImageTok + "</Image>");
      }
    } else {
      if (chat::count_occurrences(v, kImageTok) == 1 && v.compare(0, kImageTok.size(), kImageTok) != 0) {
        v = std::string(chat::py_strip(replace_all(v, kImageTok, "")));
        v = std::string(chat::py_strip(kImageTok + "\n" + v));
        if (mmtag) v = replace_all(v, kImageTok, "<Image>" + kImageTok + "</Image>");
      }
      v = replace_all(v, "QA_GT_caption_based_noisy", "");
    }
  }
}

// The folder a slow tokenizer was loaded from.
std::string slow_dir(const std::string& path) {
  return fs::is_directory(path) ? path : fs::path(path).parent_path().string();
}

}  // namespace

LlavaTokenizer LlavaTokenizer::load(const tok::Tokenizer& t, const std::string& path, PadRule pad, Transformers v) {
  LlavaTokenizer lt;
  lt.tok = &t;
  const fs::path dir = fs::is_directory(path) ? fs::path(path) : fs::path(path).parent_path();
  const bool from_model = fs::is_directory(path) && !fs::exists(dir / "tokenizer.json");
  const tok::TokenizerConfig tc = tok::TokenizerConfig::read(dir.string());
  const std::string cls = tc.tokenizer_class.value_or(from_model ? "LlamaTokenizer" : "PreTrainedTokenizerFast");
  lt.class_name = cls;
  const bool llama = cls == "LlamaTokenizer" || cls == "LlamaTokenizerFast";
  if (v == Transformers::v4_37 && llama) {
    // 4.37's AutoTokenizer with use_fast=False: the slow LlamaTokenizer ("Fast" in the config
    // is dropped), which reads tokenizer.model and has `legacy` (None -> True).
    if (!fs::exists(dir / "tokenizer.model"))
      throw Error(dir.string() + ": transformers 4.37 loads this " + cls + " with use_fast=False (as LLaVA does) from " +
                  "tokenizer.model, which is not there; give the folder that has it, or --transformers-version 5 for " +
                  "transformers 5.x, which uses tokenizer.json");
    lt.slow = std::make_shared<const tok::spm::SlowLlamaTokenizer>(tok::spm::SlowLlamaTokenizer::load(dir.string()));
    lt.class_name = "LlamaTokenizer";
    lt.legacy = lt.slow->legacy();
  } else if (llama) {
    // transformers 5.x: LlamaTokenizer (LlamaTokenizerFast is an alias) has `legacy`, False
    // by default; Qwen2Tokenizer and PreTrainedTokenizerFast have none (in 4.37 too).
    lt.legacy = tc.legacy.value_or(false);
  }
  auto id_of = [&](const std::optional<std::string>& s) -> std::optional<uint32_t> {
    const auto id = s ? lt.token_id(*s) : std::nullopt;
    return id ? std::optional<uint32_t>(static_cast<uint32_t>(*id)) : std::nullopt;
  };
  lt.bos_id = id_of(lt.slow ? lt.slow->bos_token() : tc.bos_token);
  const auto unk_id = id_of(lt.slow ? std::optional<std::string>(lt.slow->unk_token()) : tc.unk_token);
  const auto own_pad = id_of(lt.slow ? lt.slow->pad_token() : tc.pad_token);
  lt.pad_id = pad == PadRule::unk ? unk_id : (unk_id ? unk_id : own_pad);
  lt.unk_id = unk_id;
  lt.own_pad_id = own_pad;
  lt.size = lt.slow ? lt.slow->size() : t.vocab_size();
  lt.path = path;
  lt.additional_special = tc.additional_special_tokens;
  lt.transformers = v;
  try {
    lt.chat_template = std::make_shared<const chat::HfChatTemplate>(chat::HfChatTemplate::load({path, "", ""}));
  } catch (const Error& e) {
    lt.chat_template_error = e.what();
  }
  return lt;
}

// The tokenizer copy LLaVA-NeXT makes with "<image>" added (tokenizer.add_tokens(["<image>"],
// special_tokens=True)), loaded once from the same files.
struct LlavaTokenizer::ImageCopy {
  std::unique_ptr<tok::Tokenizer> fast;
  std::unique_ptr<tok::spm::SlowLlamaTokenizer> slow;
};

const LlavaTokenizer::ImageCopy& LlavaTokenizer::image_copy() const {
  if (!image_copy_) {
    auto c = std::make_shared<ImageCopy>();
    if (slow) {
      c->slow = std::make_unique<tok::spm::SlowLlamaTokenizer>(tok::spm::SlowLlamaTokenizer::load(slow_dir(path)));
      c->slow->add_tokens({kImageTok}, true);
    } else if (!path.empty()) {
      c->fast = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_file(path));
      c->fast->add_special_tokens({kImageTok});
    }
    image_copy_ = c;
  }
  return *image_copy_;
}

std::vector<int32_t> LlavaTokenizer::chat_encode(const std::string& rendered, bool with_image) const {
  if (with_image) {
    const ImageCopy& c = image_copy();
    if (c.slow) return c.slow->encode(rendered, false);
    if (c.fast) {
      tok::EncodeOptions o;
      o.add_special_tokens = false;
      const tok::Encoding e = c.fast->encode(rendered, o);
      return std::vector<int32_t>(e.ids.begin(), e.ids.end());
    }
  }
  return call(rendered, false);
}

std::optional<int32_t> LlavaTokenizer::token_id(const std::string& token, bool with_image) const {
  // The copy with <image> added, when there is one (none without a path to load it from).
  const ImageCopy* c = with_image ? &image_copy() : nullptr;
  const bool copy = c && (c->slow || c->fast);
  const tok::spm::SlowLlamaTokenizer* s = copy ? c->slow.get() : slow.get();
  const tok::Tokenizer* f = copy ? c->fast.get() : tok;
  if (s) return s->token_to_id(token);
  if (f) {
    if (auto x = f->token_to_id(token)) return static_cast<int32_t>(*x);
  }
  return std::nullopt;
}

std::optional<int32_t> LlavaTokenizer::convert_token(const std::string& token, bool with_image) const {
  // An unknown token converts to the unk id, or None without one.
  if (const auto id = token_id(token, with_image)) return id;
  if (unk_id) return static_cast<int32_t>(*unk_id);
  return std::nullopt;
}

std::vector<int32_t> LlavaTokenizer::call(const std::string& text, bool add_special_tokens) const {
  if (slow) return slow->encode(text, add_special_tokens);
  tok::EncodeOptions o;
  o.add_special_tokens = add_special_tokens;
  const tok::Encoding e = tok->encode(text, o);
  return std::vector<int32_t>(e.ids.begin(), e.ids.end());
}

std::vector<int32_t> LlavaTokenizer::image_token(const std::string& prompt) const {
  std::vector<std::vector<int32_t>> chunks;
  for (const std::string& c : py_split(prompt, kImageTok)) chunks.push_back(call(c));
  std::vector<int32_t> ids;
  size_t offset = 0;
  if (!chunks.empty() && !chunks[0].empty() && bos_id && chunks[0][0] == static_cast<int32_t>(*bos_id)) {
    offset = 1;
    ids.push_back(chunks[0][0]);
  }
  for (size_t k = 0; k < chunks.size(); ++k) {
    if (k) ids.push_back(kImage);  // the separator [-200] * (offset + 1), cut to [offset:]: one -200
    for (size_t j = offset; j < chunks[k].size(); ++j) ids.push_back(chunks[k][j]);
  }
  return ids;
}

bool read_llava_record(std::string_view record, LlavaSample& out, std::string& id, std::string& error) {
  thread_local dom::parser parser;
  out = LlavaSample{};
  dom::element d;
  if (parser.parse(record.data(), record.size(), true).get(d)) {
    error = "JSONDecodeError (json.load fails on the whole file)";
    return false;
  }
  std::string_view sv;
  int64_t iv;
  if (!d["id"].get(sv)) id = std::string(sv);
  else if (!d["id"].get(iv)) id = std::to_string(iv);
  dom::array convs;
  if (d["conversations"].get(convs)) {
    error = "KeyError: 'conversations' (not a LLaVA record)";
    return false;
  }
  dom::element img;
  out.has_image = d["image"].get(img) == simdjson::SUCCESS;
  for (dom::element m : convs) {
    std::string_view from, value;
    if (m["from"].get(from)) from = "";
    if (m["value"].get(value)) value = "";
    out.sentences.emplace_back(std::string(from), std::string(value));
  }
  return true;
}

namespace {

// LLaVA-NeXT's chat-template preprocessors map "human"/"gpt" to user/assistant and keep other
// roles; the first sentence's "from" goes through the roles dict (KeyError otherwise).
std::string next_role(const std::string& from) { return from == "human" ? "user" : from == "gpt" ? "assistant" : from; }
const std::string& check_first_from(const LlavaSample& s) {
  if (s.sentences.empty()) throw Raised{"IndexError: list index out of range"};
  const std::string& first = s.sentences[0].first;
  if (first != "human" && first != "gpt") throw Raised{"KeyError: '" + first + "'"};
  return first;
}
// Then each id of `tokens` (convert_tokens_to_ids; None left out) is trained wherever it is,
// and the <image> token becomes IMAGE_TOKEN_INDEX.
void unmask_and_place_images(const LlavaTokenizer& t, const std::vector<int32_t>& unmask, bool image, Outcome& o) {
  const std::optional<int32_t> image_index = t.convert_token(kImageTok, image);
  for (size_t k = 0; k < o.input_ids.size(); ++k) {
    if (std::find(unmask.begin(), unmask.end(), o.input_ids[k]) != unmask.end()) o.labels[k] = o.input_ids[k];
    if (image_index && o.input_ids[k] == *image_index) o.input_ids[k] = kImage;
  }
  o.zeroed = std::all_of(o.labels.begin(), o.labels.end(), [](int32_t l) { return l == kIgnore; });
}

// LLaVA-NeXT's preprocess_qwen: no count and no check. The system message and every turn go
// through apply_chat_template on their own with a fixed ChatML template; user and system turns
// are masked, assistant turns trained whole (their "<|im_start|>assistant\n" included), and
// then every id 198 ("\n" in Qwen's vocabulary), <|im_start|> and <|im_end|> is trained wherever
// it is. The two markers are read as `im_start, im_end = tokenizer.additional_special_tokens_ids`.
void preprocess_qwen(const LlavaSample& s, const LlavaTokenizer& t, Outcome& o) {
  const bool image = s.has_image;
  if (t.transformers == Transformers::v5)
    throw Raised{"AttributeError: " + t.class_name + " has no attribute additional_special_tokens_ids"};
  if (t.additional_special.size() != 2)
    throw Raised{t.additional_special.size() > 2
                     ? std::string("ValueError: too many values to unpack (expected 2)")
                     : "ValueError: not enough values to unpack (expected 2, got " + std::to_string(t.additional_special.size()) + ")"};
  std::vector<int32_t> unmask{198};
  for (const std::string& x : t.additional_special)
    if (const auto id = t.convert_token(x, image)) unmask.push_back(*id);
  const std::string& first_from = check_first_from(s);
  auto turn = [&](const std::string& role, const std::string& content, bool trained) {
    const std::vector<int32_t> ids = t.chat_encode("<|im_start|>" + role + "\n" + content + "<|im_end|>\n", image);
    o.input_ids.insert(o.input_ids.end(), ids.begin(), ids.end());
    if (trained) o.labels.insert(o.labels.end(), ids.begin(), ids.end());
    else o.labels.insert(o.labels.end(), ids.size(), kIgnore);
  };
  turn("system", "You are a helpful assistant.", false);
  for (size_t j = next_role(first_from) != "user" ? 1 : 0; j < s.sentences.size(); ++j) {
    const std::string role = next_role(s.sentences[j].first);
    turn(role, s.sentences[j].second, role != "user" && role != "system");
  }
  unmask_and_place_images(t, unmask, image, o);
}

// LLaVA-NeXT's preprocess_llama3 (LLaVA-VL/LLaVA-NeXT llava/train/train.py): no count and no
// check. The default system message and then every turn go through the tokenizer's OWN chat
// template on their own (apply_chat_template([{"role", "content"}]), add_generation_prompt
// false, encoded without added special tokens), each turn's first token dropped (meant to be
// <|begin_of_text|>). User and system turns are masked, others trained whole; then the ids of
// <|begin_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|> and "\n\n" (as
// convert_tokens_to_ids gives them) are trained wherever they are. Meta-Llama-3-8B-Instruct's
// template ends every render with an assistant header, so each turn carries one.
void preprocess_llama3(const LlavaSample& s, const LlavaTokenizer& t, Outcome& o) {
  const bool image = s.has_image;
  if (!t.chat_template)
    throw Raised{"ValueError: Cannot use chat template functions because tokenizer.chat_template is not set and no template "
                 "argument was passed! (" + t.chat_template_error + ")"};
  std::vector<int32_t> unmask;
  for (const char* x : {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "\n\n"})
    if (const auto id = t.convert_token(x, image)) unmask.push_back(*id);
  const std::string& first_from = check_first_from(s);
  // transformers 5.x: apply_chat_template returns a BatchEncoding; `input_id +=` takes its
  // keys, and torch.tensor then fails on the strings (measured with 5.17 on the device).
  if (t.transformers == Transformers::v5) throw Raised{"ValueError: too many dimensions 'str'"};
  auto encode = [&](const std::string& role, const std::string& content) {
    chat::jinja::Dict m;
    m.set("role", chat::jinja::Value(role));
    m.set("content", chat::jinja::Value(content));
    chat::HfChatTemplate::Call call;
    call.messages = chat::jinja::Value(chat::jinja::List{chat::jinja::Value(std::move(m))});
    std::string text;
    try {
      text = t.chat_template->render(call).text;
    } catch (const Error& e) {
      throw Raised{std::string("TemplateError: ") + e.what()};
    }
    return t.chat_encode(text, image);
  };
  o.input_ids = encode("system", "You are a helpful language and vision assistant. You are able to understand the visual "
                                 "content that the user provides, and assist the user with a variety of tasks using natural language.");
  o.labels.assign(o.input_ids.size(), kIgnore);
  for (size_t j = next_role(first_from) != "user" ? 1 : 0; j < s.sentences.size(); ++j) {
    const std::string role = next_role(s.sentences[j].first);
    std::vector<int32_t> ids = encode(role, s.sentences[j].second);
    if (!ids.empty()) ids.erase(ids.begin());
    o.input_ids.insert(o.input_ids.end(), ids.begin(), ids.end());
    if (role == "user" || role == "system") o.labels.insert(o.labels.end(), ids.size(), kIgnore);
    else o.labels.insert(o.labels.end(), ids.begin(), ids.end());
  }
  unmask_and_place_images(t, unmask, image, o);
}

// preprocess()'s last branch, for every template no preprocess_* claims (v0, v0_mmtag): each
// sentence becomes "### ROLE: value\n" after a "SYSTEM\n\n" header and the text ends with
// "### "; the whole is tokenized once, but the masking (_mask_targets) uses the lengths of the
// header and of each sentence tokenized on their own (BOS included, pad ids not counted):
// from the header's length on, a human sentence is masked except its first two tokens. No
// count is checked, so nothing is zeroed; wrong lengths just move the mask.
void preprocess_v0(const LlavaSample& s, const LlavaConv& conv, const LlavaTokenizer& t, Outcome& o) {
  const std::string header = conv.system + "\n\n";
  std::string conversation = header;
  std::vector<std::string> values;
  for (const auto& [from, value] : s.sentences) {
    std::string lower = from;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string who = lower == "human" ? conv.roles[0] : lower == "gpt" ? conv.roles[1] : "unknown";
    values.push_back("### " + who + ": " + value + "\n");
    conversation += values.back();
  }
  conversation += "### ";
  // _tokenize_fn: padding="longest" needs a pad token; its lengths count the ids that are not pad.
  auto tokenize_fn = [&](const std::string& x) {
    if (!t.pad_id) throw Raised{"ValueError: Asking to pad but the tokenizer does not have a padding token."};
    std::vector<int32_t> ids = t.call(x);
    if (ids.size() > t.model_max_length) ids.resize(t.model_max_length);
    return ids;
  };
  auto length = [&](const std::string& x) -> int64_t {
    if (s.has_image) return static_cast<int64_t>(t.image_token(x).size());
    int64_t n = 0;
    for (int32_t id : tokenize_fn(x)) n += id != static_cast<int32_t>(*t.pad_id);
    return n;
  };
  o.input_ids = s.has_image ? t.image_token(conversation) : tokenize_fn(conversation);
  o.labels = o.input_ids;
  const int64_t size = static_cast<int64_t>(o.labels.size());
  auto mask = [&](int64_t a, int64_t b) {
    a = std::clamp<int64_t>(a, 0, size);
    b = std::clamp<int64_t>(b, a, size);
    std::fill(o.labels.begin() + a, o.labels.begin() + b, kIgnore);
  };
  int64_t cur = length(header);
  mask(0, cur);
  for (size_t k = 0; k < values.size(); ++k) {
    const int64_t len = length(values[k]);
    if (s.sentences[k].first == "human") mask(cur + 2, cur + len);
    cur += len;
  }
  o.zeroed = std::all_of(o.labels.begin(), o.labels.end(), [](int32_t l) { return l == kIgnore; });
}

}  // namespace

Outcome llava_preprocess(const LlavaConv& conv, Impl impl, LlavaSample s, const LlavaTokenizer& t) {
  Outcome o;
  try {
    if (s.has_image) preprocess_multimodal(s, impl, conv);
    // preprocess()'s dispatch, in its order.
    const int dispatch = conv.style == SepStyle::plain      ? 0
                         : conv.style == SepStyle::llama_2  ? 1
                         : conv.version.rfind("v1", 0) == 0 ? 2
                         : conv.version == "mpt"            ? 3
                         : conv.version == "qwen"           ? 4
                         : conv.version == "gemma"          ? 5
                         : conv.version == "llama_v3"       ? 7
                                                            : 6;
    static const char* const names[] = {"preprocess_plain", "preprocess_llama_2", "preprocess_v1", "preprocess_mpt",
                                        "preprocess_qwen",  "preprocess_gemma",   "preprocess (v0: _add_speaker_and_signal)",
                                        "preprocess_llama3"};
    o.preprocessor = names[dispatch];
    if (dispatch == 7) {
      preprocess_llama3(s, t, o);
      return o;
    }
    if (dispatch == 4) {
      preprocess_qwen(s, t, o);
      return o;
    }
    if (dispatch == 6) {
      preprocess_v0(s, conv, t, o);
      return o;
    }
    if (dispatch == 0) {
      if (s.sentences.size() != 2) throw Raised{"AssertionError"};
      if (s.sentences[0].second.find(kImageTok) == std::string::npos) throw Raised{"AssertionError"};
      const std::string conversation = kImageTok + s.sentences[1].second + conv.sep;
      o.input_ids = t.image_token(conversation);
      o.labels = o.input_ids;
      const size_t n = std::min(o.labels.size(), t.image_token(kImageTok).size());
      std::fill(o.labels.begin(), o.labels.begin() + static_cast<long>(n), kIgnore);
      o.zeroed = std::all_of(o.labels.begin(), o.labels.end(), [](int32_t l) { return l == kIgnore; });
      return o;
    }
    // Roles and the prompt, as each preprocess_* builds them.
    auto role_of = [&](const std::string& from) -> const std::string& {
      if (from == "human") return conv.roles[0];
      if (from == "gpt") return conv.roles[1];
      throw Raised{"KeyError: '" + from + "'"};
    };
    auto& src = s.sentences;
    if (src.empty()) throw Raised{"IndexError: list index out of range"};
    size_t first = role_of(src[0].first) != conv.roles[0] ? 1 : 0;
    std::vector<std::pair<std::string, std::string>> msgs;
    for (size_t j = first; j < src.size(); ++j) {
      const std::string& role = role_of(src[j].first);
      if (role != conv.roles[(j - first) % 2]) throw Raised{"AssertionError: 0"};
      msgs.emplace_back(role, src[j].second);
    }
    std::string conversation;
    try {
      conversation = get_prompt(conv, msgs);
    } catch (const Error& e) {
      throw Raised{e.what()};
    }
    auto tok_len = [&](const std::string& x) { return s.has_image ? t.image_token(x).size() : t.call(x).size(); };
    if (s.has_image) {
      o.input_ids = t.image_token(conversation);
    } else {
      if (!t.pad_id)
        throw Raised{"ValueError: Asking to pad but the tokenizer does not have a padding token."};
      o.input_ids = t.call(conversation);
      if (o.input_ids.size() > t.model_max_length) o.input_ids.resize(t.model_max_length);
    }
    if (!t.pad_id) throw Raised{"TypeError: ne() received an invalid combination of arguments - got (NoneType)"};
    int64_t total = 0;
    for (int32_t id : o.input_ids) total += id != static_cast<int32_t>(*t.pad_id);
    std::vector<int32_t>& target = o.labels;
    target = o.input_ids;
    auto mask = [&](int64_t a, int64_t b) {
      a = std::clamp<int64_t>(a, 0, static_cast<int64_t>(target.size()));
      b = std::clamp<int64_t>(b, a, static_cast<int64_t>(target.size()));
      std::fill(target.begin() + a, target.begin() + b, kIgnore);
    };
    // The rounds each preprocessor counts, and its constants: v1 and llama_2 split on sep2
    // and subtract 2 (BOS + the space that merges into the answer); mpt splits on sep, regroups
    // system + user + gpt, then user + gpt, and subtracts 1.
    const bool mpt = dispatch == 3, gemma = dispatch == 5;
    std::vector<std::string> rounds;
    std::string sep;
    int64_t minus;
    if (gemma) {
      // preprocess_gemma: split on sep, regroup in pairs, sep + roles[1] before the answer;
      // cur_len 1 for <bos>; each count drops its own <bos>, and a round adds 2 for
      // "<end_of_turn>\n".
      const std::vector<std::string> pieces = py_split(conversation, conv.sep);
      for (size_t k = 0; k < pieces.size(); k += 2)
        rounds.push_back(k + 1 < pieces.size() ? pieces[k] + conv.sep + pieces[k + 1] : pieces[k]);
      sep = conv.sep + conv.roles[1];
      minus = 1;
      o.cur_start = 1;
    } else if (!mpt) {
      rounds = py_split(conversation, conv.sep2);
      sep = dispatch == 1 ? "[/INST] " : conv.sep + conv.roles[1] + ": ";
      minus = 2;
      o.cur_start = 1;
    } else {
      const std::vector<std::string> pieces = py_split(conversation, conv.sep);
      auto join = [&](size_t a, size_t b) {
        std::string r;
        for (size_t k = a; k < std::min(b, pieces.size()); ++k) r += (k > a ? conv.sep : "") + pieces[k];
        return r;
      };
      rounds.push_back(join(0, 3));
      for (size_t k = 3; k < pieces.size(); k += 2) rounds.push_back(join(k, k + 2));
      sep = conv.sep + conv.roles[1];
      minus = 1;
      o.cur_start = impl == Impl::llava_next ? 1 : 0;
    }
    o.rounds_split = rounds.size();
    int64_t cur = o.cur_start;
    mask(0, cur);
    for (size_t i = 0; i < rounds.size(); ++i) {
      const std::string& rou = rounds[i];
      if (rou.empty()) break;
      std::vector<std::string> parts = py_split(rou, sep);
      if (parts.size() != 2) break;
      parts[0] += sep;
      int64_t round_len = static_cast<int64_t>(tok_len(rou)) + (gemma ? 1 : 0);
      int64_t instruction_len = static_cast<int64_t>(tok_len(parts[0])) - minus;
      // The legacy branches (IS_TOKENIZER_GREATER_THAN_0_14 holds): v1 reads tokenizer.legacy
      // (raising without it) and subtracts for non-legacy; mpt uses getattr(..., False) and adds.
      int64_t adjust = 0;
      if (i != 0 && dispatch == 2) {
        if (!t.legacy) throw Raised{"AttributeError: " + t.class_name + " has no attribute legacy"};
        adjust = *t.legacy ? 0 : -1;
      } else if (i != 0 && mpt) {
        adjust = t.legacy.value_or(false) ? 1 : 0;
      }
      round_len += adjust;
      instruction_len += adjust;
      o.legacy_adjust += adjust;
      mask(cur, cur + instruction_len);
      cur += round_len;
      o.round_lens.push_back(round_len);
    }
    mask(cur, static_cast<int64_t>(target.size()));
    if (static_cast<size_t>(cur) < t.model_max_length && cur != total) {
      o.mismatch = true;
      o.warning = std::string(gemma ? "warning" : "WARNING") + ": tokenization mismatch: " + std::to_string(cur) + " vs. " +
                  std::to_string(total) + "." +
                  (mpt && impl == Impl::llava_next ? "(#turns=" + std::to_string(rounds.size()) + " ignored)" : " (ignored)");
    }
    if (o.mismatch) std::fill(target.begin(), target.end(), kIgnore);
    o.cur_len = cur;
    o.total_len = total;
    o.zeroed = std::all_of(target.begin(), target.end(), [](int32_t l) { return l == kIgnore; });
  } catch (const Raised& r) {
    o.error = r.what;
    o.input_ids.clear();
    o.labels.clear();
  }
  return o;
}

}  // namespace tokalign::audit

namespace tokalign::audit {

std::string explain(const Outcome& o, const LlavaConv& conv, const LlavaTokenizer& t) {
  if (!o.mismatch || !o.cur_len || !o.total_len) return {};
  const std::string sep = o.preprocessor == "preprocess_mpt" ? conv.sep : conv.sep2;
  const bool bos = !t.call("").empty();
  const size_t k = t.call(sep, false).size();
  std::string e;
  e += "cur_len " + std::to_string(*o.cur_len) + " = start " + std::to_string(o.cur_start);
  for (int64_t r : o.round_lens) e += " + " + std::to_string(r);
  e += " (" + std::to_string(o.round_lens.size()) + " round(s), each tokenized on its own";
  e += bos ? ", with a BOS standing in for the removed '" + sep + "')" : ", with no BOS: this tokenizer adds none)";
  if (o.legacy_adjust) e += ", legacy adjustment " + std::to_string(o.legacy_adjust);
  e += "; total_len " + std::to_string(*o.total_len) + ". ";
  if (o.round_lens.size() + 1 < o.rounds_split || o.round_lens.empty())
    e += "The count stopped early: a round did not split into instruction and answer (an empty answer, or a "
         "separator or role marker typed in the text). ";
  if (k != 1)
    e += "The separator '" + sep + "' is not one token for this tokenizer but " + std::to_string(k) +
         " (it is text, not a special token), so each removed separator costs more than the 1 LLaVA assumes. ";
  if (o.cur_start == 1 && !bos && o.preprocessor != "preprocess_mpt")
    e += "cur_len starts at 1 for a BOS this tokenizer does not add. ";
  if (o.preprocessor == "preprocess_mpt" && o.cur_start == 0)
    e += "LLaVA-1.5's preprocess_mpt starts at 0 and never counts the last round's separator (LLaVA-NeXT starts at 1). ";
  e += "Off by " + std::to_string(*o.total_len - *o.cur_len) + ".";
  return e;
}

}  // namespace tokalign::audit
