// The device's LLaVA-NeXT outcomes (zeroing.jsonl + labels.jsonl of tests/compile/device/llava_oracle.py)
// as the table tests/audit/next_parity.sh reads: transformers version, tokenizer, template, sample id,
// zeroed (1/0, empty when it raised), the exception, what it printed, and sha256 (16 hex) of
// LLaVA's input_ids and labels where it returned them.
// Usage: node next_table.js VERSION ZEROING_JSONL LABELS_JSONL [VERSION ZEROING LABELS ...] > TABLE.tsv
const fs = require("fs"), crypto = require("crypto");
const h = (v) => crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);
const args = process.argv.slice(2);
const out = ["# transformers\ttokenizer\ttemplate\tsample id\tzeroed\texception\tprinted\tsha(input_ids)\tsha(labels)"];
for (let a = 0; a + 2 < args.length; a += 3) {
  const [tv, zfile, lfile] = args.slice(a, a + 3);
  const labels = new Map();
  if (lfile && fs.existsSync(lfile))
    for (const l of fs.readFileSync(lfile, "utf8").split("\n")) if (l) {
      const r = JSON.parse(l);
      labels.set(`${r.tokenizer} ${r.template} ${r.id}`, [h(r.input_ids), h(r.labels)]);
    }
  for (const l of fs.readFileSync(zfile, "utf8").split("\n")) if (l) {
    const r = JSON.parse(l);
    const [hi, hl] = labels.get(`${r.tokenizer} ${r.template} ${r.id}`) || ["", ""];
    out.push([tv, r.tokenizer, r.template, r.id, r.error ? "" : r.zeroed ? "1" : "0", r.error ? r.error.split(":")[0] : "",
              r.printed || "", hi, hl].join("\t"));
  }
}
process.stdout.write(out.join("\n") + "\n");
