#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/error.h"

namespace tokalign::tok {

namespace {

// Oniguruma's \s: Unicode White_Space, as a class body.
constexpr std::string_view kSpaceBody =
    "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";
// Oniguruma's \w: Alphabetic, marks, Nd, Pc; its Latin-1 table also counts the superscript
// digits and vulgar fractions, and Other_Alphabetic holds the enclosed letters.
constexpr std::string_view kWordBody =
    "\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}\\x{24B6}-\\x{24E9}"
    "\\x{1F130}-\\x{1F149}\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}";
constexpr std::string_view kHexBody = "0-9a-fA-F";

struct MatchData {
  pcre2_match_data* md = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  MatchData() {
    md = pcre2_match_data_create(1, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~MatchData() {
    pcre2_match_context_free(ctx);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(md);
  }
};

MatchData& thread_match_data() {
  thread_local MatchData data;
  return data;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() { pcre2_code_free(code); }
};

std::string Regex::translate(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 32);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      std::string_view body;
      bool negate = false;
      switch (e) {
        case 's': body = kSpaceBody; break;
        case 'S': body = kSpaceBody; negate = true; break;
        case 'w': body = kWordBody; break;
        case 'W': body = kWordBody; negate = true; break;
        case 'h': body = kHexBody; break;
        case 'H': body = kHexBody; negate = true; break;
        default: break;
      }
      if (!body.empty()) {
        if (in_class) {
          // A negated escape inside a class has no class-body form: keep PCRE2's own
          // (it differs from Oniguruma's only on a few rare code points).
          if (negate) {
            out += c;
            out += e;
          } else {
            out += body;
          }
        } else {
          out += negate ? "[^" : "[";
          out += body;
          out += ']';
        }
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':')
      throw Error("regex " + std::string(p) +
                  ": POSIX bracket classes ([:alpha:] ...) mean other sets in Oniguruma than in PCRE2; not supported");
    if (in_class && c == '&' && i + 1 < p.size() && p[i + 1] == '&')
      throw Error("regex " + std::string(p) + ": class intersection (&&) is Oniguruma-only; not supported");
    if (in_class && c == '[')
      throw Error("regex " + std::string(p) + ": nested character classes are not supported");
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' or '^]' right after '[' is literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Regex::Regex(std::string_view pattern) : source_(pattern), impl_(std::make_unique<Impl>()) {
  const std::string translated = translate(pattern);
  int err = 0;
  PCRE2_SIZE erroff = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &erroff, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error("regex " + std::string(pattern) + ": " + reinterpret_cast<char*>(msg) +
                " at offset " + std::to_string(erroff));
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;

bool Regex::search(std::string_view text, size_t from, size_t& start, size_t& end) const {
  MatchData& m = thread_match_data();
  int rc;
  if (impl_->jit) {
    rc = pcre2_jit_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from,
                         0, m.md, m.ctx);
  } else {
    rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from,
                     PCRE2_NO_UTF_CHECK, m.md, m.ctx);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    throw Error("regex " + source_ + ": match failed: " + reinterpret_cast<char*>(msg));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(m.md);
  start = ov[0];
  end = ov[1];
  return true;
}

}  // namespace tokalign::tok
