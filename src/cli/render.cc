// tokalign render: conversations -> the text a model's own chat template makes of them.
#include <cstdio>
#include <ctime>

#include "chat/hf_template.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/jsonl_input.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::cli {

namespace {

struct RenderArgs {
  std::string tokenizer, chat_template, name, messages = "-", output = "-", date;
  bool add_generation_prompt = false, generation_spans = false, strict = false;
};

std::tm parse_date(const std::string& s) {
  std::tm tm{};
  int y, m, d;
  char extra;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
    throw Error("--date: expected YYYY-MM-DD, got \"" + s + "\"");
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  std::time_t t = timegm(&tm);  // fills the weekday and day of the year
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

Run add_render(CLI::App& app) {
  auto a = std::make_shared<RenderArgs>();
  app.description(
      "Render conversations with a model's own chat template (Jinja), byte for byte as\n"
      "transformers' apply_chat_template(..., tokenize=False) does.\n"
      "Each input line is {\"messages\": [...]} with optional \"tools\", \"documents\",\n"
      "\"add_generation_prompt\" and \"kwargs\" (more template variables, e.g. enable_thinking).\n"
      "Each output line is {\"text\": ...} (with --generation-spans also \"generation\": [[start, end], ...]\n"
      "in characters, from {% generation %} blocks), or {\"error\": ...} when the template refuses the\n"
      "conversation (raise_exception); then the exit code is 1.");
  app.add_option("--tokenizer,-t", a->tokenizer,
                 "model folder or tokenizer.json: its tokenizer_config.json gives the template and special tokens")
      ->required();
  app.add_option("--chat-template", a->chat_template,
                 "template file instead of the tokenizer's: .jinja, or a JSON file with \"chat_template\"");
  app.add_option("--template-name", a->name, "which of several named templates (e.g. tool_use); default: \"default\"");
  app.add_option("--messages,--input,-i", a->messages, "JSONL conversations (- for stdin)")->default_val("-");
  app.add_option("--output,-o", a->output, "output file (- for stdout)")->default_val("-");
  app.add_flag("--add-generation-prompt", a->add_generation_prompt,
               "end with the assistant header, as for generation (a line's \"add_generation_prompt\" wins)");
  app.add_flag("--generation-spans", a->generation_spans, "add the {% generation %} spans to each line");
  app.add_option("--date", a->date, "the date strftime_now sees, YYYY-MM-DD (default: today, local time)");
  app.add_flag("--strict", a->strict, "stop at the first conversation the template refuses");
  return [a]() {
    const chat::HfChatTemplate tmpl = chat::HfChatTemplate::load({a->tokenizer, a->chat_template, a->name});
    std::optional<std::tm> now;
    if (!a->date.empty()) now = parse_date(a->date);
    Input in(a->messages);
    Output out(a->output);
    std::string line, buf;
    size_t line_no = 0, refused = 0, rendered = 0;
    while (read_line(in.file(), line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = in.name() + ":" + std::to_string(line_no);
      chat::HfChatTemplate::Call call;
      call.add_generation_prompt = a->add_generation_prompt;
      call.now = now;
      chat::jinja::Value doc;
      try {
        doc = chat::jinja::from_json(line);
      } catch (const Error& e) {
        throw Error(where + ": " + e.what());
      }
      const chat::jinja::Value* messages = doc.is_dict() ? doc.dict().find("messages") : nullptr;
      if (!messages || !messages->is_list()) throw Error(where + ": expected an object with an array field \"messages\"");
      call.messages = *messages;
      if (const chat::jinja::Value* v = doc.dict().find("tools"); v && !v->is_none()) call.tools = *v;
      if (const chat::jinja::Value* v = doc.dict().find("documents"); v && !v->is_none()) call.documents = *v;
      if (const chat::jinja::Value* v = doc.dict().find("add_generation_prompt")) {
        if (!v->is_bool()) throw Error(where + ": \"add_generation_prompt\" must be true or false");
        call.add_generation_prompt = v->as_bool();
      }
      if (const chat::jinja::Value* v = doc.dict().find("kwargs")) {
        if (!v->is_dict()) throw Error(where + ": \"kwargs\" must be an object");
        call.extra = v->dict();
      }
      buf.clear();
      try {
        const chat::jinja::Rendered r = tmpl.render(call);
        buf += "{\"text\":";
        append_json_string(buf, r.text);
        if (a->generation_spans) {
          buf += ",\"generation\":[";
          for (size_t i = 0; i < r.generation.size(); ++i) {
            const auto [s, e] = r.generation[i];
            const size_t cs = unicode::count_chars(std::string_view(r.text).substr(0, s));
            const size_t ce = cs + unicode::count_chars(std::string_view(r.text).substr(s, e - s));
            buf += (i ? ",[" : "[") + std::to_string(cs) + "," + std::to_string(ce) + "]";
          }
          buf += "]";
        }
        buf += "}\n";
        ++rendered;
      } catch (const Error& e) {
        ++refused;
        std::fprintf(stderr, "tokalign render: %s: %s\n", where.c_str(), e.what());
        if (a->strict) {
          out.close();
          return 1;
        }
        buf += "{\"error\":";
        append_json_string(buf, e.what());
        buf += "}\n";
      }
      out.write(buf);
    }
    out.close();
    std::fprintf(stderr, "tokalign render: %zu conversations rendered, %zu refused by the template\n", rendered, refused);
    return refused ? 1 : 0;
  };
}

}  // namespace tokalign::cli
