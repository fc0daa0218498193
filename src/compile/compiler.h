// The label compiler: Conversation -> template segments -> token ids, labels, image slots.
//
// Ids are the Hugging Face tokenization of the whole rendered prompt, cut at images the way
// LLaVA's tokenizer_image_token() cuts it (each text chunk encoded on its own, one BOS kept,
// one placeholder per image). Special tokens are parsed in template scaffolding only; in
// message text they are plain text. Labels come from the segment tags through the tokens'
// character offsets: a token covering any character of trained text is trained. Nothing is
// re-counted, so no tokenizer or template can make the count disagree.
//
// Every sample is verified before it is returned (see verify in compiler.cc): decoding each
// trained assistant span gives back its text and end-of-turn, no untrained text carries a
// label, image slots match images, at least one token is trained, ids fit the vocabulary.
#pragma once

#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chat/conversation.h"
#include "chat/problem.h"
#include "chat/segment.h"
#include "chat/template.h"
#include "shard/sample.h"
#include "tokenizer/tokenizer.h"
#include "vision/policy.h"

namespace tokalign::compile {

using shard::ImageSlot;
using shard::kIgnoreIndex;
using shard::kImagePlaceholder;
using shard::Sample;
using shard::kBoundaryMerge;
using shard::kSpecialInContent;
using shard::kTruncated;

enum class LabelMode {
  tokalign,    // the options below decide (default: assistant text and its end-of-turn)
  llava,       // what LLaVA's preprocess_* intended for the template
  llava_next,  // what LLaVA-NeXT's intended (qwen/llama3 also train headers and separators)
};
enum class ImageTokens { placeholder, expand };
// "tokalign", "llava", "llava-next"; throws tokalign::Error otherwise.
LabelMode parse_label_mode(const std::string& name);

struct Options {
  LabelMode labels = LabelMode::tokalign;
  bool train_on_prompt = false;  // train every text token (not images, not BOS/EOS the tokenizer adds)
  bool last_turn_only = false;   // train only the last message of each trained role
  bool train_eos = true;         // train the end-of-turn string of trained messages
  std::set<chat::Role> roles{chat::Role::assistant};
  ImageTokens image_tokens = ImageTokens::placeholder;
  uint32_t image_token_count = 576;  // tokens per image with ImageTokens::expand
  uint32_t image_token_id = 0;       // id repeated with ImageTokens::expand
  size_t max_len = 0;                // 0: no limit
  bool parse_special_in_content = false;
  chat::ImagePlacement placement = chat::ImagePlacement::llava;
  std::string image_start, image_end;  // mm_use_im_start_end: "<im_start>", "<im_end>"
  bool keep_segments = false;          // fill Sample::segments
  bool keep_provenance = false;        // fill Sample::provenance and reference_ids
  // A vision policy: each image is probed (its file under image_root) and counted; expand
  // repeats the image token that many times, and --max-len counts it either way. An image that
  // cannot be read sends its sample to quarantine (image_unreadable).
  std::optional<vision::Policy> vision;
  std::string image_root;
};

// The checks verify() makes on every compiled sample, named by the quarantine reason a sample
// that fails one gets.
namespace check {
inline constexpr const char* id_range = "verify_id_range";        // ids in the vocabulary
inline constexpr const char* image_slots = "verify_image_slots";  // one slot per image
inline constexpr const char* image_label = "verify_image_label";  // no label on an image token
inline constexpr const char* zero_trained = "zero_trained";       // at least one trained token
// Every trained character under a trained token; no trained token over untrained text only.
inline constexpr const char* trained_text_unlabelled = "verify_trained_text_unlabelled";
inline constexpr const char* untrained_text_labelled = "verify_untrained_text_labelled";
inline constexpr const char* decode = "verify_decode";  // each trained assistant turn decodes to its text
}  // namespace check
inline constexpr std::array<const char*, 7> kVerificationChecks = {
    check::id_range, check::image_slots, check::image_label, check::zero_trained,
    check::trained_text_unlabelled, check::untrained_text_labelled, check::decode};

class Compiler {
 public:
  Compiler(const tok::Tokenizer& tokenizer, const chat::Template& tmpl, Options options);

  // Compiles one conversation into `out` (emptied first; its image slots' storage is kept for
  // the thread's next sample). False with `problem` set when the sample goes to quarantine;
  // when the failure came after encoding (verification, zero trained tokens) `out` still
  // holds the ids and labels, for debugging views.
  bool compile(const chat::Conversation& c, Sample& out, chat::Problem& problem) const;

  const Options& options() const { return opts_; }
  // Builds now what the first compile would otherwise build on first use and every other
  // thread then wait for (the tokenizer's flat decoder, some 20M instructions for a 32,000-id
  // vocabulary): a pipeline runs it beside its start.
  void warm_up() const { (void)tok_.decodes_flat(); }

 private:
  struct Encoded;
  void encode(const chat::Rendered& r, Encoded& e) const;
  bool verify(const chat::Rendered& r, Encoded& e, Sample& s, chat::Problem& problem) const;
  void provenance(const chat::Rendered& r, const Encoded& e, Sample& out) const;
  bool segment_trained(const chat::Segment& g, int32_t last_turn_of_role[3]) const;
  bool trained_everywhere(int32_t id) const;

  const tok::Tokenizer& tok_;
  const chat::Template& tmpl_;
  Options opts_;
  chat::Template wrapped_;  // tmpl_ with image_start/image_end added inside its image wrap
  const chat::LlavaLabels* llava_labels_ = nullptr;  // what --labels llava|llava-next trains, else null
  std::vector<uint32_t> everywhere_ids_;
  size_t vocab_size_ = 0;
  bool role_trained_[3] = {};  // opts_.roles by Role (looked up per segment)
};

}  // namespace tokalign::compile
