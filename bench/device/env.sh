# Sourced by the bench/device/*_job.sh scripts: the tokalign binary carried in
# .device/guard/ (with the Debian libraries it was linked against, run through their own
# loader), and LLaVA-1.5's tokenizer (.device/tok/vicuna).
G=.device/guard
export TOKALIGN="$G/lib/ld-linux-x86-64.so.2 --library-path $G/lib $G/tokalign"
export TOK=.device/tok/vicuna
