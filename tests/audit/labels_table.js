// The device's per-sample outcomes with LLaVA's input_ids and labels (zeroing.jsonl + labels.jsonl of
// tests/compile/device/llava_oracle.py --labels) as the table tests/audit/labels_parity.sh reads:
// run (IMPL@TRANSFORMERS), tokenizer, template, sample id, zeroed (1/0, empty when it raised), the
// exception, what it printed, and sha256 (16 hex) of input_ids and labels where LLaVA returned them.
// Usage: node labels_table.js IMPL@TV ZEROING_JSONL LABELS_JSONL [IMPL@TV ZEROING LABELS ...] > TABLE.tsv
// (LABELS_JSONL may be "none"; rows of other implementations in the files are skipped).
const fs = require("fs"), crypto = require("crypto");
const h = (v) => crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);
const args = process.argv.slice(2);
const out = ["# run\ttokenizer\ttemplate\tsample id\tzeroed\texception\tprinted\tsha(input_ids)\tsha(labels)"];
for (let a = 0; a + 2 < args.length; a += 3) {
  const [run, zfile, lfile] = args.slice(a, a + 3);
  const impl = run.split("@")[0];
  const labels = new Map();
  if (fs.existsSync(lfile))
    for (const l of fs.readFileSync(lfile, "utf8").split("\n")) if (l) {
      const r = JSON.parse(l);
      if (r.impl === impl) labels.set(`${r.tokenizer} ${r.template} ${r.id}`, [h(r.input_ids), h(r.labels)]);
    }
  for (const l of fs.readFileSync(zfile, "utf8").split("\n")) if (l) {
    const r = JSON.parse(l);
    if (r.impl !== impl) continue;
    const [hi, hl] = labels.get(`${r.tokenizer} ${r.template} ${r.id}`) || ["", ""];
    out.push([run, r.tokenizer, r.template, r.id, r.error ? "" : r.zeroed ? "1" : "0", r.error ? r.error.split(":")[0] : "",
              r.printed || "", hi, hl].join("\t"));
  }
}
process.stdout.write(out.join("\n") + "\n");
