// tokalign._native: the C++ core for Python (pybind11). The Python package around it is
// python/tokalign/ (tokalign.torch: Dataset, collator, LLaVA's preprocess; the shard reader).
//
//   Tokenizer(path)                       tokenizer.json, or a model folder
//     .encode(text, add_special_tokens=True, offsets=False) -> ids (int32 array)
//                                          [, offsets (n, 2) int32 array in chars, as HF reports]
//     .encode_batch(texts, add_special_tokens=True, threads=0, flat=False) -> [ids, ...] (threads, GIL
//        released); flat=True -> (ids of all texts in one array, per-text lengths)
//     .decode(ids, skip_special_tokens=False) -> str
//     .token_to_id(token), .vocab_size, .pad_token_id (from tokenizer_config.json; None if none)
//   Compiler(tokenizer_path, template, **options)
//     .compile(record) -> dict(id, input_ids, labels, images, flags, report, ...) where record is one
//        dataset record as JSON text or a dict (LLaVA, ShareGPT or messages); raises
//        QuarantineError(reason, field, message) for a sample compile would quarantine.
//   Detector(**config)                    the guard's anomaly rules (docs/guard.md), in-process
//     .observe(step, loss=None, grad_norm=None, learning_rate=None, epoch=None, eval_loss=None)
//        -> [dict(rule, metric, value, step, onset_step, act, detail), ...]
//     .restart_from(step, resume_step=-1)
//   Stats(max_len=0)                       dataset statistics (the `stats` command)
//     .add_shard(path), .add_data(compiler, path) -> None; .table(), .json(), .html(title) -> str;
//     .holds("zero-trained>0") -> (bool, value)
//   Auditor(tokenizer, version, impl="llava", transformers="4.37", pad_token="", model_max_length=2048,
//           ids=False)                     what LLaVA's own preprocess does (the `audit` command)
//     .audit(record) -> dict(id, cur_len, total_len, mismatch, zeroed, preprocess, warning, error,
//        labels_differ, ids_differ, explanation[, input_ids, labels]); .audit_file(path) -> [dict]
//     .working_versions() -> [str]; .conv, .fallback, .default_conv, .slow_tokenizer
//
// Everything goes through the same code as the command line: compile's JSONL output and
// Compiler.compile give the same ids and labels (python/tokalign/tests).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "audit/auditor.h"
#include "chat/hf_segments.h"
#include "chat/reader.h"
#include "chat/record_stream.h"
#include "chat/template.h"
#include "compile/compiler.h"
#include "guard/detector.h"
#include "report/stats.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"
#include "util/worker_pool.h"

namespace py = pybind11;
using namespace tokalign;

namespace {

// A 1-d int32 array holding a copy of `n` 32-bit values (ids < 2^31 or labels: the same bits).
// Made through numpy's C API as pybind11 exposes it: py::array_t's constructor allocates shape
// and stride vectors per array, which shows when encode_batch returns 100k of them.
py::array int32_array(const void* data, size_t n) {
  const auto& api = py::detail::npy_api::get();
  const Py_intptr_t dims[1] = {static_cast<Py_intptr_t>(n)};
  PyObject* a = api.PyArray_NewFromDescr_(api.PyArray_Type_, api.PyArray_DescrFromType_(py::detail::npy_api::NPY_INT32_), 1,
                                          dims, nullptr, nullptr, 0, nullptr);
  if (!a) throw py::error_already_set();
  if (n) std::memcpy(py::detail::array_proxy(a)->data, data, n * sizeof(int32_t));
  return py::reinterpret_steal<py::array>(a);
}

template <class T>
py::array to_array(const std::vector<T>& v) {
  static_assert(sizeof(T) == sizeof(int32_t), "ids are 32-bit");
  return int32_array(v.data(), v.size());
}

// Each record of a dataset file (a JSON array or JSON Lines, streamed): fn(record, position).
template <class F>
void for_each_record(const std::string& path, F&& fn) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(path + ": " + std::strerror(errno));
  chat::RecordStream records(f.get(), path);
  std::string_view rec;
  chat::SourcePos pos;
  while (records.next(rec, pos)) fn(rec, pos);
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

  // The texts' UTF-8 is read in place (str caches it; bytes are UTF-8 already) and encoded in
  // batches with the GIL released, each batch's ids copied out before the next. Returns a list
  // of arrays, or with flat=True (ids, lengths): every text's ids one after the other in one
  // array, and each text's count (no per-text objects: packing, counting, length lists).
  py::object encode_batch(const py::sequence& texts, bool add_special_tokens, size_t threads, bool flat) const {
    tok::EncodeOptions o;
    o.add_special_tokens = add_special_tokens;
    const size_t n = texts.size();
    std::vector<py::object> held;  // keeps each text alive (a sequence may build items on access)
    std::vector<std::string_view> views;
    held.reserve(n);
    views.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      py::object x = texts[i];
      char* p = nullptr;
      Py_ssize_t len = 0;
      if (PyUnicode_Check(x.ptr())) {
        p = const_cast<char*>(PyUnicode_AsUTF8AndSize(x.ptr(), &len));
        if (!p) throw py::error_already_set();
      } else if (PyBytes_Check(x.ptr())) {
        if (PyBytes_AsStringAndSize(x.ptr(), &p, &len) != 0) throw py::error_already_set();
      } else {
        throw py::type_error("encode_batch: texts[" + std::to_string(i) + "] is " +
                             std::string(py::str(py::type::of(x).attr("__name__"))) + ", not str or bytes");
      }
      views.emplace_back(p, static_cast<size_t>(len));
      held.push_back(std::move(x));
    }
    py::list out(flat ? 0 : n);
    std::vector<int32_t> all, lengths;  // flat
    if (flat) {
      size_t bytes = 0;
      for (const std::string_view& v : views) bytes += v.size();
      all.reserve(bytes / 3 + n);  // about a token per 4 bytes of text: rarely regrown
      lengths.reserve(n);
    }
    std::vector<tok::Encoding> es;
    // 256 texts a thread per batch: the batch's encodings stay in cache, and the threads meet
    // rarely enough at the end of each batch.
    const size_t kBatch = 256 * resolve_threads(threads);
    for (size_t b = 0; b < n; b += kBatch) {
      const std::span<const std::string_view> part(views.data() + b, std::min(kBatch, n - b));
      py::gil_scoped_release release;
      t->encode_batch(part, o, threads, es);
      if (flat) {
        for (size_t i = 0; i < part.size(); ++i) {
          all.insert(all.end(), es[i].ids.begin(), es[i].ids.end());
          lengths.push_back(static_cast<int32_t>(es[i].ids.size()));
        }
        continue;
      }
      py::gil_scoped_acquire acquire;
      for (size_t i = 0; i < part.size(); ++i) out[b + i] = to_array(es[i].ids);
    }
    if (flat) return py::make_tuple(to_array(all), to_array(lengths));
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

  bool compile(std::string_view record, const chat::SourcePos& pos, chat::Conversation& c, shard::Sample& s,
               chat::Problem& p) const {
    return reader->read(record, pos, c, p) && compiler->compile(c, s, p);
  }

  py::dict compile(const std::string& record) const {
    chat::Conversation c;
    chat::Problem p;
    shard::Sample s;
    bool ok;
    {
      py::gil_scoped_release release;
      ok = compile(record, chat::SourcePos{}, c, s, p);
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
    // What was proved of it (a sample failing a check raises QuarantineError instead), and
    // what the compiler noticed.
    py::dict report;
    report["verified"] = true;
    py::list checks;
    for (const char* c : compile::kVerificationChecks) checks.append(c);
    report["checks"] = checks;
    report["tokens"] = s.input_ids.size();
    report["trained_tokens"] = s.trained_tokens();
    report["boundary_merges"] = s.boundary_merges;
    report["truncated"] = (s.flags & shard::kTruncated) != 0;
    report["dropped_turns"] = s.dropped_turns;
    report["special_strings_in_content"] = s.special_strings;
    d["report"] = report;
    return d;
  }
};

// report::Stats over shards or a dataset streamed through a Compiler (the `stats` command).
struct PyStats {
  report::Stats stats;
  explicit PyStats(size_t max_len) : stats(max_len) {}

  void add_shard(const std::string& path) {
    py::gil_scoped_release release;
    stats.add_shard(path);
  }

  void add_data(const PyCompiler& c, const std::string& path) {
    py::gil_scoped_release release;
    for_each_record(path, [&](std::string_view rec, const chat::SourcePos& pos) {
      chat::Conversation conv;
      chat::Problem p;
      shard::Sample s;
      if (c.compile(rec, pos, conv, s, p)) stats.add(s, static_cast<uint32_t>(conv.messages.size()));
      else stats.add_quarantined(p.reason);
    });
  }

  py::tuple holds(const std::string& condition) const {
    double v = 0;
    const bool h = stats.holds(condition, v);
    return py::make_tuple(h, v);
  }
};

// audit::Auditor: LLaVA's own preprocessing, predicted sample by sample (the `audit` command).
struct PyAuditor {
  std::shared_ptr<tok::Tokenizer> tok;
  std::unique_ptr<audit::Auditor> auditor;
  bool ids = false;
  uint64_t index = 0;

  PyAuditor(const PyTokenizer& t, const std::string& version, const std::string& impl, const std::string& transformers,
            const std::string& pad_token, size_t model_max_length, bool with_ids)
      : tok(t.t), ids(with_ids) {
    audit::AuditOptions o;
    o.version = version;
    o.impl = audit::parse_impl(impl);
    o.transformers = audit::parse_transformers(transformers);
    o.pad = pad_token;
    o.model_max_length = model_max_length;
    auditor = std::make_unique<audit::Auditor>(*tok, t.path, o);
  }

  py::dict to_dict(const audit::AuditResult& r) const {
    const audit::Outcome& o = r.outcome;
    py::dict d;
    d["id"] = r.id;
    d["cur_len"] = o.cur_len ? py::object(py::int_(*o.cur_len)) : py::object(py::none());
    d["total_len"] = o.total_len ? py::object(py::int_(*o.total_len)) : py::object(py::none());
    d["mismatch"] = o.mismatch;
    d["zeroed"] = o.zeroed;
    d["preprocess"] = o.preprocessor;
    auto text = [](const std::string& v) { return v.empty() ? py::object(py::none()) : py::object(py::str(v)); };
    d["warning"] = text(o.warning);
    d["error"] = text(o.error);
    d["labels_differ"] = text(r.labels_differ);
    d["ids_differ"] = text(r.ids_differ);
    d["explanation"] = o.mismatch ? text(auditor->explain(o)) : py::object(py::none());
    if (ids && o.error.empty()) {
      d["input_ids"] = to_array(o.input_ids);
      d["labels"] = to_array(o.labels);
    }
    return d;
  }

  py::dict audit(const std::string& record) {
    chat::SourcePos pos;
    pos.index = index++;
    audit::AuditResult r;
    {
      py::gil_scoped_release release;
      r = auditor->audit(record, pos);
    }
    return to_dict(r);
  }

  py::list audit_file(const std::string& path) {
    std::vector<audit::AuditResult> rs;
    {
      py::gil_scoped_release release;
      for_each_record(path, [&](std::string_view rec, const chat::SourcePos& pos) { rs.push_back(auditor->audit(rec, pos)); });
    }
    py::list out;
    for (const audit::AuditResult& r : rs) out.append(to_dict(r));
    return out;
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
           py::arg("threads") = 0, py::arg("flat") = false)
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
      .def("compile", py::overload_cast<const std::string&>(&PyCompiler::compile, py::const_), py::arg("record"));

  py::class_<PyStats>(m, "Stats")
      .def(py::init<size_t>(), py::arg("max_len") = 0)
      .def("add_shard", &PyStats::add_shard, py::arg("path"))
      .def("add_data", &PyStats::add_data, py::arg("compiler"), py::arg("path"))
      .def("table", [](const PyStats& s) { return s.stats.table(); })
      .def("json", [](const PyStats& s) { return s.stats.json(); })
      .def("html", [](const PyStats& s, const std::string& title) { return s.stats.html(title); }, py::arg("title"))
      .def("holds", &PyStats::holds, py::arg("condition"))
      .def_static("metric_names", &report::Stats::metric_names);

  py::class_<PyAuditor>(m, "Auditor")
      .def(py::init<const PyTokenizer&, const std::string&, const std::string&, const std::string&, const std::string&, size_t,
                    bool>(),
           py::arg("tokenizer"), py::arg("version"), py::arg("impl") = "llava", py::arg("transformers") = "4.37",
           py::arg("pad_token") = "", py::arg("model_max_length") = 2048, py::arg("ids") = false)
      .def("audit", &PyAuditor::audit, py::arg("record"))
      .def("audit_file", &PyAuditor::audit_file, py::arg("path"))
      .def("working_versions", [](const PyAuditor& a) { return a.auditor->working_versions(); })
      .def_property_readonly("conv", [](const PyAuditor& a) { return a.auditor->conv().name; })
      .def_property_readonly("fallback", [](const PyAuditor& a) { return a.auditor->fallback(); })
      .def_property_readonly("default_conv", [](const PyAuditor& a) { return a.auditor->default_conv(); })
      .def_property_readonly("slow_tokenizer", [](const PyAuditor& a) { return bool(a.auditor->tokenizer().slow); });
}
