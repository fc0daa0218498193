"""transformers 4.37's slow LlamaTokenizer, rebuilt on the device machine from transformers 5.x's
own slow-tokenizer classes (4.37 itself cannot be installed there: no network).

5.x keeps the slow logic LLaVA's use_fast=False ran under 4.37:
  - transformers.tokenization_utils_sentencepiece.SentencePieceBackend loads tokenizer.model
    with sentencepiece, drops the dummy prefix for legacy=False (the protobuf edit of 4.37's
    LlamaTokenizer.get_spm_processor), and its _tokenize is 4.37's LlamaTokenizer._tokenize
    (the unk-prefix trick);
  - transformers.tokenization_python.PythonBackend.tokenize is 4.37's
    PreTrainedTokenizer.tokenize (tokens_trie.split, AddedToken lstrip/rstrip/single_word).
What 5.x dropped when LlamaTokenizer moved to the tokenizers backend is restored here, as 4.37
documents it: LlamaTokenizer.tokenize's leading "▁" for legacy=False (removed again before a
special token), build_inputs_with_special_tokens' add_bos_token / add_eos_token, and 4.37's
defaults (legacy None -> True, add_bos_token True). Loading goes through 5.x's
from_pretrained, which reads tokenizer_config.json / special_tokens_map.json as 4.37 did.
"""
import transformers
from transformers.tokenization_python import PythonBackend
from transformers.tokenization_utils_sentencepiece import SentencePieceBackend

SPIECE_UNDERLINE = "\u2581"


class LlamaTokenizer437(SentencePieceBackend):
    def __init__(self, vocab_file=None, legacy=None, add_bos_token=True, add_eos_token=False,
                 unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token=None, **kwargs):
        self.add_bos_437 = add_bos_token
        self.add_eos_437 = add_eos_token
        super().__init__(vocab_file=vocab_file, legacy=True if legacy is None else legacy, unk_token=unk_token,
                         bos_token=bos_token, eos_token=eos_token, pad_token=pad_token, **kwargs)
        self.legacy = True if legacy is None else legacy

    def tokenize(self, text, **kwargs):
        if self.legacy or len(text) == 0:
            return PythonBackend.tokenize(self, text, **kwargs)
        tokens = PythonBackend.tokenize(self, SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " "), **kwargs)
        if len(tokens) > 1 and tokens[0] == SPIECE_UNDERLINE and tokens[1] in self.all_special_tokens:
            tokens = tokens[1:]
        return tokens

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        bos = [self.bos_token_id] if self.add_bos_437 else []
        eos = [self.eos_token_id] if self.add_eos_437 else []
        out = bos + token_ids_0 + eos
        if token_ids_1 is not None:
            out = out + bos + token_ids_1 + eos
        return out


def load(folder, **kwargs):
    """AutoTokenizer.from_pretrained(folder, use_fast=False) as transformers 4.37 did it for a
    LlamaTokenizer folder."""
    return LlamaTokenizer437.from_pretrained(folder, **kwargs)


def is_llama_slow(folder):
    """Whether 4.37's AutoTokenizer with use_fast=False gives a slow LlamaTokenizer here."""
    import json
    import os
    cfg = os.path.join(folder, "tokenizer_config.json")
    cls = json.load(open(cfg)).get("tokenizer_class") if os.path.exists(cfg) else None
    return os.path.exists(os.path.join(folder, "tokenizer.model")) and cls in (None, "LlamaTokenizer", "LlamaTokenizerFast")


def version():
    return f"LlamaTokenizer 4.37 semantics on transformers {transformers.__version__} slow classes"
