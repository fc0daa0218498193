#include "compile/coverage.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tokalign::compile::coverage {
namespace {

struct Seg {
  uint32_t start, end;
  bool trained;
};
struct Tok {
  uint32_t start, end;
};

struct Case {
  size_t text = 0;
  std::vector<Seg> segs;
  std::vector<Tok> toks;
  std::vector<bool> labelled, exempt;
};

// by_bytes (sweep false), or by_sweep with the labels as a lambda only or also as an array
// (its four-token steps).
Fault run(const Case& c, bool sweep, bool array = false) {
  Scratch x;
  auto labelled = [&](size_t t) { return static_cast<bool>(c.labelled[t]); };
  auto exempt = [&](size_t t) { return static_cast<bool>(c.exempt[t]); };
  std::vector<int32_t> labels(c.labelled.size());
  for (size_t t = 0; t < labels.size(); ++t) labels[t] = c.labelled[t] ? static_cast<int32_t>(t) : -100;
  const LabelArray with = array ? LabelArray{labels.data(), -100} : LabelArray{};
  return sweep ? by_sweep(c.text, c.segs.data(), c.segs.size(), c.toks.data(), 0, c.toks.size(), labelled, exempt, x, with)
               : by_bytes(c.text, c.segs.data(), c.segs.size(), c.toks.data(), 0, c.toks.size(), labelled, exempt, x);
}

std::string show(const Fault& f) {
  return f.kind == Fault::none ? "none" : (f.kind == Fault::untrained_text_labelled ? "token " : "byte ") + std::to_string(f.at);
}

// "USER: hi ASSISTANT: yes</s>": segments user (0-9), header (9-20), reply (20-23), eos (23-27).
Case chat() {
  Case c;
  c.text = 27;
  c.segs = {{0, 9, false}, {9, 20, false}, {20, 23, true}, {23, 27, true}};
  c.toks = {{0, 4}, {4, 5}, {5, 8}, {8, 9}, {9, 19}, {19, 20}, {20, 23}, {23, 27}};
  c.labelled = {false, false, false, false, false, false, true, true};
  c.exempt.assign(c.toks.size(), false);
  return c;
}

TEST(Coverage, ExactLabelsPassBothWays) {
  const Case c = chat();
  EXPECT_FALSE(run(c, true));
  EXPECT_FALSE(run(c, false));
}

TEST(Coverage, AnUnlabelledTrainedTokenIsTheFirstUncoveredByte) {
  Case c = chat();
  c.labelled[7] = false;  // "</s>" left out
  for (bool sweep : {true, false}) {
    const Fault f = run(c, sweep);
    EXPECT_EQ(f.kind, Fault::trained_text_unlabelled);
    EXPECT_EQ(f.at, 23u);
  }
}

TEST(Coverage, ALabelOverThePromptIsReportedByToken) {
  Case c = chat();
  c.labelled[2] = true;  // part of the user's text
  for (bool sweep : {true, false}) {
    const Fault f = run(c, sweep);
    EXPECT_EQ(f.kind, Fault::untrained_text_labelled);
    EXPECT_EQ(f.at, 2u);
  }
  c.exempt[2] = true;  // unless its id is trained everywhere
  EXPECT_FALSE(run(c, true));
  EXPECT_FALSE(run(c, false));
}

TEST(Coverage, ATokenAcrossTheBoundaryCoversBothSides) {
  Case c = chat();
  // " yes" merged with the header's last byte: the token covers untrained and trained text.
  c.toks[5] = {19, 23};
  c.toks[6] = {23, 23};
  c.labelled[5] = true;
  c.labelled[6] = false;
  EXPECT_FALSE(run(c, true));
  EXPECT_FALSE(run(c, false));
}

// 20,000 random cases from make(below) (below(n): a random number under n) in text order: the
// sweep finds what the byte marks find, with and without its four-token steps, and the cases
// reach both outcomes.
template <class Make>
void sweep_agrees_with_bytes(uint32_t seed, Make make) {
  std::mt19937 rng(seed);
  auto below = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  size_t faults = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const Case c = make(below);
    const Fault a = run(c, true), b = run(c, false), steps = run(c, true, true);
    faults += b.kind != Fault::none;
    ASSERT_EQ(show(a), show(b)) << "iteration " << iter;
    ASSERT_EQ(show(steps), show(b)) << "iteration " << iter << ", four-token steps";
  }
  EXPECT_GT(faults, 1000u);
  EXPECT_LT(faults, 19000u);
}

// Consecutive segments of len() bytes each, trained where trained() says; sets the text size.
template <class Len, class Trained>
void add_segments(Case& c, uint32_t n, Len len, Trained trained) {
  uint32_t at = 0;
  for (uint32_t s = 0; s < n; ++s) {
    const uint32_t l = len();
    c.segs.push_back({at, at + l, trained()});
    at += l;
  }
  c.text = at;
}

// Short random chunks: empty segments and tokens, tokens sharing a range (byte fallback) or
// reaching past the text, random labels.
TEST(Coverage, SweepAgreesWithBytesOnRandomOrderedChunks) {
  sweep_agrees_with_bytes(7, [](auto& below) {
    Case c;
    add_segments(c, 1 + below(6), [&] { return below(5); }, [&] { return below(2) == 0; });
    // Tokens: starts and ends never decreasing.
    uint32_t start = 0;
    while (start < c.text + 1 && c.toks.size() < 12) {
      const uint32_t len = below(4);
      c.toks.push_back({start, start + len});
      if (below(5) == 0) c.toks.push_back({start, start + len});
      start += below(3) == 0 ? len : std::max<uint32_t>(len, 1);
    }
    for (size_t t = 0; t < c.toks.size(); ++t) {
      c.labelled.push_back(below(3) != 0);
      c.exempt.push_back(below(10) == 0);
    }
    return c;
  });
}

// Long trained segments holding many tokens, as running text has (the sweep takes a token
// inside the last trained segment and touching the run on a short path of its own): labels as
// the compiler gives them, then a few faults planted anywhere.
TEST(Coverage, SweepAgreesWithBytesOnLongRuns) {
  sweep_agrees_with_bytes(11, [](auto& below) {
    Case c;
    add_segments(c, 1 + below(4), [&] { return below(4) == 0 ? below(3) : 8 + below(80); }, [&] { return below(3) != 0; });
    for (uint32_t start = 0; start < c.text;) {
      const uint32_t len = 1 + below(4);
      c.toks.push_back({start, start + len});
      start += len;
    }
    for (const Tok& t : c.toks) {  // labelled: over trained text
      bool trained = false;
      for (const Seg& g : c.segs) trained |= g.trained && g.start < t.end && t.start < g.end;
      c.labelled.push_back(trained);
      c.exempt.push_back(false);
    }
    // Faults: a label flipped, an empty token, a gap or an overlap, a token past the text.
    for (uint32_t k = below(3); k > 0 && !c.toks.empty(); --k) {
      const size_t t = below(static_cast<uint32_t>(c.toks.size()));
      switch (below(5)) {
        case 0: c.labelled[t] = !c.labelled[t]; break;
        case 1: c.toks[t].end = c.toks[t].start; break;
        case 2: if (t > 0 && c.toks[t].start < c.toks[t].end) ++c.toks[t].start; break;
        case 3: if (c.toks[t].start > 0 && (t == 0 || c.toks[t - 1].start < c.toks[t].start)) --c.toks[t].start; break;
        case 4: c.toks.back().end = c.toks.back().end + 3; break;
      }
    }
    return c;
  });
}

}  // namespace
}  // namespace tokalign::compile::coverage
