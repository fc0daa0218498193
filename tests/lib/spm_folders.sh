# Sourced by tests: model folders with a SentencePiece tokenizer.model and no tokenizer.json,
# assembled from ../shared/data/tokenizers under $1 (symlinks):
#   $1/yi           yi-34b/tokenizer.model + the Yi-1.5 tokenizer_config/special_tokens_map
#   $1/mistral-spm  Mistral-7B-Instruct-v0.2 without its tokenizer.json
#   $1/vicuna-added Vicuna's tokenizer.model with tests/spm/added_tokens_config.json (added tokens
#                   with lstrip / rstrip / single_word, overlapping prefixes, legacy False)
# and sets SPM_DIRS[name] for vicuna, tinyllama, yi, mistral-spm, vicuna-added.
spm_folders() {
  local w=$1 s=../shared/data/tokenizers f
  mkdir -p "$w/yi" "$w/mistral-spm" "$w/vicuna-added"
  ln -sf "$(realpath $s/vicuna-7b-v1.5/tokenizer.model)" "$w/vicuna-added/tokenizer.model"
  ln -sf "$(realpath tests/spm/added_tokens_config.json)" "$w/vicuna-added/tokenizer_config.json"
  ln -sf "$(realpath $s/yi-34b/tokenizer.model)" "$w/yi/tokenizer.model"
  ln -sf "$(realpath $s/mistral-7b-instruct-v0.2/tokenizer.model)" "$w/mistral-spm/tokenizer.model"
  for f in tokenizer_config.json special_tokens_map.json; do
    ln -sf "$(realpath $s/yi-1.5-6b-chat_via-mergekit/$f)" "$w/yi/$f"
    ln -sf "$(realpath $s/mistral-7b-instruct-v0.2/$f)" "$w/mistral-spm/$f"
  done
  declare -gA SPM_DIRS=([vicuna]=$s/vicuna-7b-v1.5 [tinyllama]=$s/tinyllama-1.1b-chat-v1.0 [yi]=$w/yi [mistral-spm]=$w/mistral-spm [mistral]=$w/mistral-spm [vicuna-added]=$w/vicuna-added)
}
