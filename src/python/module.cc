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
//   Detector(**config)                    the guard's anomaly rules (docs/guard.md), in-process
//     .observe(step, loss=None, grad_norm=None, learning_rate=None, epoch=None, eval_loss=None)
//        -> [dict(rule, metric, value, step, onset_step, act, detail), ...]
//     .restart_from(step, resume_step=-1)
//
// Everything goes through the same code as the command line: compile's JSONL output and
// Compiler.compile give the same ids and labels (python/tokalign/tests).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <memory>

#include "chat/hf_segments.h"
#include "chat/reader.h"
#include "chat/template.h"
#include "compile/compiler.h"
#include "guard/detector.h"
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
      custom.add(chat::hf_compile_template(*tok, {t.path, chat_template, ""}));
      tmpl = &custom.all().front();
    } else {
      tmpl = &chat::TemplateRegistry::builtin().find(template_name);
    }
    compile::Options o;
    o.labels = compile::parse_label_mode(labels);
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
    o.placement = chat::parse_image_placement(image_placement);
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

  py::class_<guard::Detector>(m, "Detector")
      .def(py::init([](py::kwargs kw) {
        guard::DetectorConfig c;
        for (auto [k, v] : kw) {
          const std::string key = py::str(k);
          if (key == "window") c.window = v.cast<size_t>();
          else if (key == "min_points") c.min_points = v.cast<size_t>();
          else if (key == "warmup_steps") c.warmup_steps = v.cast<int64_t>();
          else if (key == "cooldown_steps") c.cooldown_steps = v.cast<int64_t>();
          else if (key == "spike_z") c.spike_z = v.cast<double>();
          else if (key == "spike_ratio") c.spike_ratio = v.cast<double>();
          else if (key == "spike_min_rise") c.spike_min_rise = v.cast<double>();
          else if (key == "spike_patience") c.spike_patience = v.cast<int>();
          else if (key == "grad_z") c.grad_z = v.cast<double>();
          else if (key == "grad_ratio") c.grad_ratio = v.cast<double>();
          else if (key == "grad_patience") c.grad_patience = v.cast<int>();
          else if (key == "cospike_z") c.cospike_z = v.cast<double>();
          else if (key == "ema_span") c.ema_span = v.cast<int>();
          else if (key == "divergence_factor") c.divergence_factor = v.cast<double>();
          else if (key == "divergence_min_rise") c.divergence_min_rise = v.cast<double>();
          else if (key == "divergence_patience") c.divergence_patience = v.cast<int>();
          else if (key == "zero_loss_repeats") c.zero_loss_repeats = v.cast<int>();
          else throw Error("Detector: unknown setting '" + key + "'");
        }
        return guard::Detector(c);
      }))
      .def("observe",
           [](guard::Detector& d, int64_t step, std::optional<double> loss, std::optional<double> grad_norm,
              std::optional<double> learning_rate, std::optional<double> epoch, std::optional<double> eval_loss) {
             guard::Metrics mt;
             mt.step = step;
             mt.loss = loss;
             mt.grad_norm = grad_norm;
             mt.learning_rate = learning_rate;
             mt.epoch = epoch;
             mt.eval_loss = eval_loss;
             py::list out;
             for (const guard::Finding& f : d.observe(mt, step)) {
               py::dict x;
               x["rule"] = guard::rule_name(f.rule);
               x["metric"] = f.metric;
               x["value"] = f.value;
               x["step"] = f.step;
               x["onset_step"] = f.onset_step;
               x["act"] = f.act;
               x["detail"] = f.detail;
               out.append(x);
             }
             return out;
           },
           py::arg("step"), py::arg("loss") = py::none(), py::arg("grad_norm") = py::none(),
           py::arg("learning_rate") = py::none(), py::arg("epoch") = py::none(), py::arg("eval_loss") = py::none())
      .def("restart_from", &guard::Detector::restart_from, py::arg("step"), py::arg("resume_step") = -1);

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
