// A model folder holding a SentencePiece tokenizer.model but no tokenizer.json (Vicuna,
// LLaVA-1.5, TinyLlama, Yi ship that way) becomes the tokenizer.json that transformers 5.x
// builds for it when it loads the folder (AutoTokenizer, LlamaTokenizer on the tokenizers
// backend, use_fast either way): BPE over the model's pieces with merges generated from the
// vocabulary (transformers generate_merges: by the merged piece's id, then the lengths of the
// two halves), byte fallback, a Metaspace pre-tokenizer whose prepend scheme follows
// add_prefix_space and legacy ("first" when legacy is false, "always" when true), BOS/EOS as
// tokenizer_config.json's add_bos_token/add_eos_token say (absent: false, as transformers
// 5.17 reads them), added tokens from the model's control and user-defined pieces and from
// added_tokens_decoder. Checked id for id against transformers 5.17 on the device machine
// (tests/spm/).
//
// Note what transformers 5.17 does with a config that omits add_bos_token (TinyLlama-1.1B-Chat):
// no BOS, where transformers 4.x's LlamaTokenizer added one. A tokenizer.json, when the model
// has one, says it explicitly and is read instead.
//
// Not transformers 4.x's slow SentencePiece tokenizer (what LLaVA loaded with
// use_fast=False under its pinned 4.37): that is the audit issue's emulation.
#pragma once

#include <string>

namespace tokalign::tok::spm {

// `model_path` is the tokenizer.model; tokenizer_config.json and special_tokens_map.json are
// read from `folder` when present. Throws tokalign::Error naming the file and the problem
// (not a BPE model, a tokenizer class other than Llama's, malformed config).
std::string llama_tokenizer_json(const std::string& model_path, const std::string& folder);

// Everything llama_tokenizer_json's result depends on, as one string: the converter's version,
// the model's bytes and the two config files' (the compiled-tokenizer cache is keyed by it,
// so a start with a cached conversion skips converting: 30-40 ms for Vicuna's 32k pieces).
// Throws tokalign::Error when a file cannot be read.
std::string llama_conversion_inputs(const std::string& model_path, const std::string& folder);

}  // namespace tokalign::tok::spm
