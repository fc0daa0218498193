// The guard's log reader: numbers as trainers print them, HF Trainer's log dicts (old,
// quoted and tensor-valued), JSON lines with Python's NaN/Infinity, Megatron iteration lines
// and a user regex; lines that are not metric records are not read as records.
#include "guard/log_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "util/error.h"

namespace tokalign::guard {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- parse_number ---------------------------------------------------------------------

TEST(GuardLogParser, NumberPlainForms) {
  EXPECT_EQ(parse_number("1.5"), 1.5);
  EXPECT_EQ(parse_number("-2e-05"), -2e-05);
  EXPECT_EQ(parse_number("0"), 0.0);
  EXPECT_EQ(parse_number("7.330E-01"), 0.733);
  EXPECT_EQ(parse_number("  3.25 "), 3.25);  // surrounding blanks, as between '|' fields
}

TEST(GuardLogParser, NumberNonFiniteSpellings) {
  auto nan1 = parse_number("nan");
  ASSERT_TRUE(nan1);
  EXPECT_TRUE(std::isnan(*nan1));
  auto nan2 = parse_number("NaN");
  ASSERT_TRUE(nan2);
  EXPECT_TRUE(std::isnan(*nan2));
  EXPECT_EQ(parse_number("inf"), kInf);
  EXPECT_EQ(parse_number("Infinity"), kInf);
  EXPECT_EQ(parse_number("-Infinity"), -kInf);
  EXPECT_EQ(parse_number("-inf"), -kInf);
}

TEST(GuardLogParser, NumberQuotedAndTensor) {
  EXPECT_EQ(parse_number("'2.346'"), 2.346);
  EXPECT_EQ(parse_number("\"1e-05\""), 1e-05);
  auto quoted_nan = parse_number("'nan'");
  ASSERT_TRUE(quoted_nan);
  EXPECT_TRUE(std::isnan(*quoted_nan));
  auto t = parse_number("tensor(nan, device='cuda:0')");
  ASSERT_TRUE(t);
  EXPECT_TRUE(std::isnan(*t));
  EXPECT_EQ(parse_number("tensor(2.5, device='cuda:0', grad_fn=<AddBackward0>)"), 2.5);
  EXPECT_EQ(parse_number("tensor(0.75)"), 0.75);
}

TEST(GuardLogParser, NumberGarbageIsNotANumber) {
  for (const char* s : {"", "   ", "garbage", "1.5x", "x1.5", "--1", "+-1", "1,5", "nanx", "''", "tensor(",
                        "tensor(abc)", "[1.0]", "{'a': 1}", "'2.3"})
    EXPECT_FALSE(parse_number(s)) << "'" << s << "'";
}

TEST(GuardLogParser, NumberOutOfRangeIsInfinite) {
  EXPECT_EQ(parse_number("1e999"), kInf);
  EXPECT_EQ(parse_number("-1e999"), -kInf);
  auto tiny = parse_number("1e-999");  // underflows: a (signed) zero, not a non-finite value
  ASSERT_TRUE(tiny);
  EXPECT_EQ(*tiny, 0.0);
}

// Whether a number out of double's range is huge or tiny is a matter of its magnitude, not
// of whether its text has a '-' after an 'e': 0.000...0001 (400 zeros) is tiny, and
// 1000...000e-10 (400 zeros) is 1e390, huge.
TEST(GuardLogParser, NumberOutOfRangeFollowsTheMagnitude) {
  auto tiny = parse_number("0." + std::string(400, '0') + "1");
  ASSERT_TRUE(tiny);
  EXPECT_TRUE(std::isfinite(*tiny)) << "1e-401 written out in decimals read as " << *tiny;
  EXPECT_LT(std::fabs(*tiny), 1e-300);
  auto huge = parse_number("1" + std::string(400, '0') + "e-10");
  ASSERT_TRUE(huge);
  EXPECT_EQ(*huge, kInf) << "1e390 written with a negative exponent read as " << *huge;
}

// ---- parse_dict_line ------------------------------------------------------------------

TEST(GuardLogParser, DictHfOldStyle) {
  auto m = parse_dict_line("{'loss': 2.3456, 'grad_norm': 1.2, 'learning_rate': 1e-05, 'epoch': 0.5}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 2.3456);
  EXPECT_EQ(m->grad_norm, 1.2);
  EXPECT_EQ(m->learning_rate, 1e-05);
  EXPECT_EQ(m->epoch, 0.5);
  EXPECT_FALSE(m->step);  // HF's dicts carry no step: the supervisor counts them
  EXPECT_FALSE(m->eval_loss);
  EXPECT_FALSE(m->loss_missing);
  EXPECT_TRUE(m->is_training());
}

TEST(GuardLogParser, DictHfQuotedStyle) {
  auto m = parse_dict_line("{'loss': '2.346', 'grad_norm': 'nan', 'learning_rate': '1e-05', 'epoch': '0.5'}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 2.346);
  ASSERT_TRUE(m->grad_norm);
  EXPECT_TRUE(std::isnan(*m->grad_norm));
  EXPECT_EQ(m->learning_rate, 1e-05);
  EXPECT_EQ(m->epoch, 0.5);
}

TEST(GuardLogParser, DictTensorValue) {
  // The tensor's own commas and quotes must not end the value early: the keys after it count.
  auto m = parse_dict_line(
      "{'loss': 2.5, 'grad_norm': tensor(nan, device='cuda:0'), 'learning_rate': 2e-05, 'epoch': 0.25}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 2.5);
  ASSERT_TRUE(m->grad_norm);
  EXPECT_TRUE(std::isnan(*m->grad_norm));
  EXPECT_EQ(m->learning_rate, 2e-05);
  EXPECT_EQ(m->epoch, 0.25);
}

TEST(GuardLogParser, DictAfterTqdmPrefix) {
  auto m = parse_dict_line(
      " 5%|\xe2\x96\x8c   | 10/200 [00:01<00:20]{'loss': 2.3, 'grad_norm': 0.9, 'learning_rate': 5e-05, 'epoch': 0.05}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 2.3);
  EXPECT_EQ(m->grad_norm, 0.9);
  EXPECT_EQ(m->learning_rate, 5e-05);
  EXPECT_EQ(m->epoch, 0.05);
}

TEST(GuardLogParser, DictJsonLineWithPythonNonFinite) {
  auto m = parse_dict_line(R"({"step": 10, "loss": NaN, "grad_norm": Infinity, "learning_rate": 1e-05})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->step, 10);
  ASSERT_TRUE(m->loss);
  EXPECT_TRUE(std::isnan(*m->loss));
  EXPECT_EQ(m->grad_norm, kInf);
  EXPECT_EQ(m->learning_rate, 1e-05);

  auto neg = parse_dict_line(R"({"step": 11, "loss": -Infinity})");
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->step, 11);
  EXPECT_EQ(neg->loss, -kInf);
}

TEST(GuardLogParser, DictHfFinalSummaryIsNotARecord) {
  // train_loss is the run's average, not a logged training loss: no 'loss' key, no record.
  EXPECT_FALSE(parse_dict_line("{'train_runtime': 1.0, 'train_loss': 2.1, 'epoch': 1.0}"));
  EXPECT_FALSE(parse_dict_line(
      "{'train_runtime': 12.5, 'train_samples_per_second': 80.1, 'train_steps_per_second': 9.6, "
      "'train_loss': 2.1, 'epoch': 1.0}"));
}

TEST(GuardLogParser, DictEvalRecord) {
  auto m = parse_dict_line("{'eval_loss': nan, 'epoch': 1}");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->eval_loss);
  EXPECT_TRUE(std::isnan(*m->eval_loss));
  EXPECT_EQ(m->epoch, 1.0);
  EXPECT_FALSE(m->loss);
  EXPECT_FALSE(m->is_training());
  EXPECT_FALSE(m->empty());
}

TEST(GuardLogParser, DictNestedValuesAndListsAreSkipped) {
  auto m = parse_dict_line(
      "{'loss': 2.0, 'extra': {'loss': 9.0, 'grad_norm': 9.0}, 'hist': [1, 'nan', (2, 3)], 'grad_norm': 1.25}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 2.0);       // the top-level value, not the nested one
  EXPECT_EQ(m->grad_norm, 1.25);  // read after the nested dict and list
}

TEST(GuardLogParser, DictFirstMetricDictOfTheLine) {
  auto m = parse_dict_line("config {'seed': 42} then {'loss': 1.75, 'epoch': 0.1}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 1.75);
}

TEST(GuardLogParser, DictMalformedOrTruncated) {
  for (const char* s : {
           "{'loss': 2.3, 'grad_norm': 1.2",  // truncated (the process was killed mid-print)
           "{'loss': 2.3, 'grad_norm'",       //
           "{'loss': ",                       //
           "{'loss' 2.3}",                    // no colon
           "{'loss': }",                      // no value
           "{loss: 2.3}",                     // unquoted key
           "{'loss: 2.3}",                    // unterminated key
           "{'loss': 'abc'}",                 // not a number
           "{'loss': 2.3)",                   // wrong closer
           "{}",                              //
           "no dict here",                    //
           "",                                //
       })
    EXPECT_FALSE(parse_dict_line(s)) << s;
}

// ---- parse_megatron_line --------------------------------------------------------------

const char* kMegatronLine =
    " [2026-11-28 10:00:00] iteration      100/  500000 | consumed samples: 3200 | elapsed time per iteration "
    "(ms): 812.3 | learning rate: 6.680E-06 | global batch size: 32 | lm loss: 7.330E-01 | loss scale: 1.0 | "
    "grad norm: 0.752 | number of skipped iterations: 0 | number of nan iterations: 0 |";

TEST(GuardLogParser, MegatronIterationLine) {
  auto m = parse_megatron_line(kMegatronLine);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->step, 100);
  EXPECT_EQ(m->loss, 0.733);
  EXPECT_EQ(m->grad_norm, 0.752);
  EXPECT_EQ(m->learning_rate, 6.68e-06);
  EXPECT_FALSE(m->loss_missing);
  EXPECT_EQ(m->nan_iterations, 0);
  EXPECT_TRUE(m->is_training());
}

TEST(GuardLogParser, MegatronLineWithoutLmLossIsLossMissing) {
  std::string line = kMegatronLine;
  const std::string field = " lm loss: 7.330E-01 |";
  size_t at = line.find(field);
  ASSERT_NE(at, std::string::npos);
  line.erase(at, field.size());
  auto m = parse_megatron_line(line);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->step, 100);
  EXPECT_FALSE(m->loss);
  EXPECT_TRUE(m->loss_missing);
  EXPECT_TRUE(m->is_training());  // a training record all the same
}

TEST(GuardLogParser, MegatronNanCounter) {
  std::string line = kMegatronLine;
  const std::string zero = "number of nan iterations: 0 |";
  line.replace(line.find(zero), zero.size(), "number of nan iterations:   2 |");
  auto m = parse_megatron_line(line);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nan_iterations, 2);
  EXPECT_EQ(m->loss, 0.733);
}

// The counter is printed with {:3d}, but a line is untrusted text: a counter too large for
// int64 is still above zero (and converting it must not be undefined behaviour; UBSan reports
// log_parser.cc's static_cast<int64_t>(1e300)).
TEST(GuardLogParser, MegatronHugeNanCounterIsAboveZero) {
  auto m = parse_megatron_line("iteration 1/ 2 | lm loss: 1.0 | number of nan iterations: 1e300 |");
  ASSERT_TRUE(m);
  EXPECT_GT(m->nan_iterations, 0) << "read as " << m->nan_iterations;
}

TEST(GuardLogParser, MegatronOtherLinesAreNotRecords) {
  for (const char* s : {
           "saving checkpoint at iteration     100 to /ckpt in torch_dist format",
           "  successfully saved checkpoint from iteration     100 to /ckpt",
           "(min, max) time across ranks (ms):",
           "iteration",
           "iteration 100",
           "iteration 100/",
           "iteration /500 |",
           "training ...",
           "",
       })
    EXPECT_FALSE(parse_megatron_line(s)) << s;
}

// ---- LogParser ------------------------------------------------------------------------

TEST(GuardLogParser, ParserAutoReadsEveryBuiltinFormat) {
  LogParser p(LogFormat::Auto);
  auto meg = p.parse(kMegatronLine);
  ASSERT_TRUE(meg);
  EXPECT_EQ(meg->step, 100);
  EXPECT_EQ(meg->loss, 0.733);
  auto hf = p.parse("{'loss': 2.3456, 'grad_norm': 1.2, 'learning_rate': 1e-05, 'epoch': 0.5}");
  ASSERT_TRUE(hf);
  EXPECT_EQ(hf->loss, 2.3456);
  auto json = p.parse(R"({"step": 7, "loss": 1.5})");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->step, 7);
  EXPECT_FALSE(p.parse("Some weights of the model checkpoint were not used"));
}

TEST(GuardLogParser, ParserUserRegex) {
  LogParser p(LogFormat::Regex, R"(step (?<step>\d+) .*loss=(?<loss>\S+) gnorm=(?<grad_norm>\S+))");
  auto m = p.parse("[rank0] step 42 | loss=1.25 gnorm=nan");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->step, 42);
  EXPECT_EQ(m->loss, 1.25);
  ASSERT_TRUE(m->grad_norm);
  EXPECT_TRUE(std::isnan(*m->grad_norm));
  // Format::Regex reads nothing else.
  EXPECT_FALSE(p.parse("{'loss': 2.3456, 'grad_norm': 1.2}"));
  EXPECT_FALSE(p.parse(kMegatronLine));
}

TEST(GuardLogParser, ParserAutoWithRegexFallsBackToBuiltins) {
  LogParser p(LogFormat::Auto, R"(my_loss=(?<loss>\S+))");
  auto own = p.parse("epoch 1 my_loss=0.5");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->loss, 0.5);
  auto hf = p.parse("{'loss': 2.5, 'epoch': 0.5}");
  ASSERT_TRUE(hf);
  EXPECT_EQ(hf->loss, 2.5);
}

TEST(GuardLogParser, ParserRegexErrors) {
  EXPECT_THROW(LogParser(LogFormat::Regex, R"(step (?<step>\d+))"), Error);     // no metric group
  EXPECT_THROW(LogParser(LogFormat::Regex, R"(loss=(\S+))"), Error);             // unnamed group
  EXPECT_THROW(LogParser(LogFormat::Regex, R"(x=(?<foo>\S+))"), Error);          // unknown name
  EXPECT_THROW(LogParser(LogFormat::Regex, R"(loss=(?<loss>[0-9)"), Error);     // does not compile
  EXPECT_THROW(LogParser(LogFormat::Auto, R"((?<loss>\S+)"), Error);            // unbalanced
  EXPECT_THROW(LogParser(LogFormat::Regex), Error);                              // Regex needs a pattern
  EXPECT_NO_THROW(LogParser(LogFormat::Regex, R"(eval (?<eval_loss>\S+))"));
}

TEST(GuardLogParser, ParserMegatronIgnoresDictLines) {
  LogParser p(LogFormat::Megatron);
  EXPECT_FALSE(p.parse("{'loss': 2.3456, 'grad_norm': 1.2, 'learning_rate': 1e-05, 'epoch': 0.5}"));
  EXPECT_FALSE(p.parse(R"({"step": 10, "loss": NaN})"));
  auto m = p.parse(kMegatronLine);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->step, 100);
}

TEST(GuardLogParser, ParserDictIgnoresMegatronLines) {
  LogParser p(LogFormat::Dict);
  EXPECT_FALSE(p.parse(kMegatronLine));
  EXPECT_TRUE(p.parse("{'loss': 2.0}"));
}

TEST(GuardLogParser, ParserIsMovable) {
  LogParser a(LogFormat::Regex, R"(loss=(?<loss>\S+))");
  LogParser b = std::move(a);
  auto m = b.parse("loss=3");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->loss, 3.0);
}

TEST(GuardLogParser, FormatNames) {
  EXPECT_EQ(parse_log_format("auto"), LogFormat::Auto);
  EXPECT_EQ(parse_log_format("hf"), LogFormat::Dict);
  EXPECT_EQ(parse_log_format("json"), LogFormat::Dict);
  EXPECT_EQ(parse_log_format("dict"), LogFormat::Dict);
  EXPECT_EQ(parse_log_format("megatron"), LogFormat::Megatron);
  EXPECT_EQ(parse_log_format("regex"), LogFormat::Regex);
  EXPECT_THROW(parse_log_format("csv"), Error);
  EXPECT_THROW(parse_log_format(""), Error);
}

}  // namespace
}  // namespace tokalign::guard
