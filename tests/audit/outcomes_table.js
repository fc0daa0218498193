// Turns the device job's zeroing.jsonl (tests/compile/device/llava_oracle.py) into the table
// tests/audit/parity.sh reads: impl, tokenizer, template, sample id, zeroed (1/0, empty when it
// raised), the exception's type, total_len (not for plain, nor when it raised), what it printed.
// Usage: node outcomes_table.js ZEROING_JSONL "HEADER LINE" > TABLE.tsv
const fs = require("fs");
const [file, header] = process.argv.slice(2);
const out = ["# impl\ttokenizer\ttemplate\tsample id\tzeroed (1/0, empty when it raised)\texception raised\ttotal_len (not for plain)\twhat it printed"];
for (const h of (header || "").split("\n")) if (h) out.push("# " + h);
for (const l of fs.readFileSync(file, "utf8").split("\n")) {
  if (!l) continue;
  const r = JSON.parse(l);
  const err = r.error ? r.error.split(":")[0] : "";
  const total = r.error || r.template === "plain" || r.total_len === null ? "" : String(r.total_len);
  out.push([r.impl, r.tokenizer, r.template, r.id, r.error ? "" : r.zeroed ? "1" : "0", err, total, r.printed || ""].join("\t"));
}
process.stdout.write(out.join("\n") + "\n");
