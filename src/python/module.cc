// tokalign._native: the C++ core for Python (pybind11). The Python package around it is
// python/tokalign/ (tokalign.torch: Dataset, collator, LLaVA's preprocess; the shard reader).
//
//   Tokenizer(path)                       tokenizer.json, or a model folder
//     .encode(text, add_special_tokens=True, offsets=False) -> ids (int32 array)
//                                          [, offsets (n, 2) int32 array in chars, as HF reports]
//     .encode_batch(texts, add_special_tokens=True, threads=0) -> [ids, ...] (threads, GIL released)
//     .decode(ids, skip_special_tokens=False) -> str
//     .token_to_id(token), .vocab_size, .pad_token_id (from tokenizer_config.json; None if none)
//   Compiler(tokenizer_path, template, **options)
//     .compile(record) -> dict(id, input_ids, labels, images, flags, ...) where record is one
//        dataset record as JSON text or a dict (LLaVA, ShareGPT or messages); raises
//        QuarantineError(reason, field, message) for a sample compile would quarantine.
//
// Everything goes through the same code as the command line: compile's JSONL output and
// Compiler.compile give the same ids and labels (python/tokalign/tests).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <memory>

#include "chat/hf_template.h"
#include "chat/reader.h"
#include "chat/template.h"
#include "compile/compiler.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"

namespace py = pybind11;
using namespace tokalign;

namespace {

template <class T>
py::array_t<int32_t> to_array(const std::vector<T>& v) {
  py::array_t<int32_t> a(static_cast<py::ssize_t>(v.size()));
  auto m = a.template mutable_unchecked<1>();
  for (size_t i = 0; i < v.size(); ++i) m(static_cast<py::ssize_t>(i)) = static_cast<int32_t>(v[i]);
  return a;
}

// The pad token's id as transformers reads it (tokenizer_config.json / special_tokens_map.json).
std::optional<uint32_t> pad_id_of(const tok::Tokenizer& t, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::is_directory(path) ? fs::path(path) : fs::path(path).parent_path();
  const tok::TokenizerConfig c = tok::TokenizerConfig::read(dir.empty() ? "." : dir.string());
  return c.pad_token ? t.token_to_id(*c.pad_token) : std::nullopt;
}

struct PyTokenizer {
  std::shared_ptr<tok::Tokenizer> t;
  std::string path;
  explicit PyTokenizer(const std::string& p) : t(std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_file(p))), path(p) {}

  py::object encode(const std::string& text, bool add_special_tokens, bool offsets) const {
    tok::EncodeOptions o;
    o.add_special_tokens = add_special_tokens;
    o.offsets = offsets;
    tok::Encoding e;
    {
      py::gil_scoped_release release;
      e = t->encode(text, o);
    }
    if (!offsets) return to_array(e.ids);
    py::array_t<int32_t> off({static_cast<py::ssize_t>(e.offsets.size()), py::ssize_t{2}});
    auto m = off.mutable_unchecked<2>();
    for (size_t i = 0; i < e.offsets.size(); ++i) {
      m(static_cast<py::ssize_t>(i), 0) = static_cast<int32_t>(e.offsets[i].first);
      m(static_cast<py::ssize_t>(i), 1) = static_cast<int32_t>(e.offsets[i].second);
    }
    return py::make_tuple(to_array(e.ids), off);
  }

  py::list encode_batch(const std::vector<std::string>& texts, bool add_special_tokens, size_t threads) const {
    tok::EncodeOptions o;
    o.add_special_tokens = add_special_tokens;
    std::vector<tok::Encoding> es;
    {
      py::gil_scoped_release release;
      es = t->encode_batch(texts, o, threads);
    }
    py::list out;
    for (const tok::Encoding& e : es) out.append(to_array(e.ids));
    return out;
  }

  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    std::vector<uint32_t> u;
    u.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id > UINT32_MAX) throw Error("decode: id " + std::to_string(id) + " is not a token id");
      u.push_back(static_cast<uint32_t>(id));
    }
    py::gil_scoped_release release;
    return t->decode(u, skip_special_tokens);
  }
};

class QuarantineError : public std::runtime_error {
 public:
  chat::Problem problem;
  explicit QuarantineError(chat::Problem p) : std::runtime_error(p.reason + " at " + p.field + ": " + p.message), problem(std::move(p)) {}
};

struct PyCompiler {
  std::shared_ptr<tok::Tokenizer> tok;
  chat::TemplateRegistry custom;
  const chat::Template* tmpl = nullptr;
  std::unique_ptr<compile::Compiler> compiler;
  std::unique_ptr<chat::ConversationReader> reader;

  PyCompiler(const PyTokenizer& t, const std::string& template_name, const std::string& chat_template, bool train_on_prompt,
             bool last_turn_only, bool train_eos, const std::string& labels, const std::string& image_tokens,
             uint32_t image_token_count, size_t max_len, const std::string& image_placement, const std::string& input_format)
      : tok(t.t) {
    if (template_name == "hf") {
      chat::Template h;
      h.name = "hf";
      h.add_special_tokens = false;
      auto hf = std::make_shared<chat::HfChatTemplate>(chat::HfChatTemplate::load({t.path, chat_template, ""}));
      h.json = hf->text();
      h.hf = std::move(hf);
      for (const tok::AddedToken& a : tok->added_vocabulary().tokens())
        if (a.special && !a.content.empty()) h.special_tokens.push_back(a.content);
      custom.add(std::move(h));
      tmpl = &custom.all().front();
    } else {
      tmpl = &chat::TemplateRegistry::builtin().find(template_name);
    }
    compile::Options o;
    o.labels = labels == "llava" ? compile::LabelMode::llava
               : labels == "llava-next" ? compile::LabelMode::llava_next
                                        : compile::LabelMode::tokalign;
    if (labels != "tokalign" && labels != "llava" && labels != "llava-next") throw Error("labels: tokalign, llava or llava-next");
    o.train_on_prompt = train_on_prompt;
    o.last_turn_only = last_turn_only;
    o.train_eos = train_eos;
    if (image_tokens == "expand") {
      o.image_tokens = compile::ImageTokens::expand;
      const auto id = tok->token_to_id("<image>");
      if (!id) throw Error("image_tokens='expand' needs '<image>' in the tokenizer's vocabulary");
      o.image_token_id = *id;
    } else if (image_tokens != "placeholder") {
      throw Error("image_tokens: placeholder or expand");
    }
    o.image_token_count = image_token_count;
    o.max_len = max_len;
    o.placement = image_placement == "keep"         ? chat::ImagePlacement::keep
                  : image_placement == "llava-next" ? chat::ImagePlacement::llava_next
                                                    : chat::ImagePlacement::llava;
    compiler = std::make_unique<compile::Compiler>(*tok, *tmpl, o);
    reader = std::make_unique<chat::ConversationReader>(chat::parse_input_format(input_format));
  }

  py::dict compile(const std::string& record) {
    chat::Conversation c;
    chat::Problem p;
    shard::Sample s;
    bool ok;
    {
      py::gil_scoped_release release;
      ok = reader->read(record, chat::SourcePos{}, c, p) && compiler->compile(c, s, p);
    }
    if (!ok) throw QuarantineError(p);
    py::dict d;
    d["id"] = s.id;
    d["input_ids"] = to_array(s.input_ids);
    d["labels"] = to_array(s.labels);
    py::list images;
    for (const shard::ImageSlot& im : s.images) {
      py::dict x;
      x["position"] = im.position;
      x["token_count"] = im.token_count;
      x["path"] = im.path;
      images.append(x);
    }
    d["images"] = images;
    d["flags"] = s.flags;
    d["trained_tokens"] = s.trained_tokens();
    d["dropped_turns"] = s.dropped_turns;
    return d;
  }
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "tokalign's C++ core: tokenizers bit-exact with Hugging Face, and the label compiler";
  static py::exception<Error> error(m, "Error", PyExc_ValueError);
  static py::object quarantine = py::exception<QuarantineError>(m, "QuarantineError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const QuarantineError& e) {
      py::object err = quarantine(e.what());
      err.attr("reason") = e.problem.reason;
      err.attr("field") = e.problem.field;
      err.attr("detail") = e.problem.message;
      PyErr_SetObject(quarantine.ptr(), err.ptr());
    } catch (const Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  py::class_<PyTokenizer>(m, "Tokenizer")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def("encode", &PyTokenizer::encode, py::arg("text"), py::arg("add_special_tokens") = true, py::arg("offsets") = false)
      .def("encode_batch", &PyTokenizer::encode_batch, py::arg("texts"), py::arg("add_special_tokens") = true,
           py::arg("threads") = 0)
      .def("decode", &PyTokenizer::decode, py::arg("ids"), py::arg("skip_special_tokens") = false)
      .def("token_to_id", [](const PyTokenizer& t, const std::string& s) { return t.t->token_to_id(s); })
      .def_property_readonly("vocab_size", [](const PyTokenizer& t) { return t.t->vocab_size(); })
      .def_property_readonly("pad_token_id", [](const PyTokenizer& t) { return pad_id_of(*t.t, t.path); })
      .def_readonly("path", &PyTokenizer::path);

  py::class_<PyCompiler>(m, "Compiler")
      .def(py::init<const PyTokenizer&, const std::string&, const std::string&, bool, bool, bool, const std::string&,
                    const std::string&, uint32_t, size_t, const std::string&, const std::string&>(),
           py::arg("tokenizer"), py::arg("template"), py::arg("chat_template") = "", py::arg("train_on_prompt") = false,
           py::arg("last_turn_only") = false, py::arg("train_eos") = true, py::arg("labels") = "tokalign",
           py::arg("image_tokens") = "placeholder", py::arg("image_token_count") = 576, py::arg("max_len") = 0,
           py::arg("image_placement") = "llava", py::arg("input_format") = "auto")
      .def("compile", &PyCompiler::compile, py::arg("record"));
}
