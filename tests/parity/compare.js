#!/usr/bin/env node
// Compares two JSONL encodings line by line: the HF oracle's (expected) and
// ours (actual). Used by tests/parity/parity.sh.
//
//   node tests/parity/compare.js --corpus IN.jsonl --expected HF.jsonl
//        --actual OURS.jsonl [--offsets] [--name NAME] [--show N]
//
// A line is identical when "ids" are equal (and "offsets" too with
// --offsets). Other keys are ignored, and so is JSON formatting.
// Prints details for the first N (default 5) mismatching lines and one
// summary line "parity NAME: K/T identical". Exit 0 iff every line is
// identical and both files have exactly one output line per corpus line.
"use strict";

const fs = require("fs");

function parseArgs(argv) {
  const o = { corpus: null, expected: null, actual: null, offsets: false, name: "", show: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--corpus") o.corpus = val();
    else if (a === "--expected") o.expected = val();
    else if (a === "--actual") o.actual = val();
    else if (a === "--name") o.name = val();
    else if (a === "--show") o.show = parseInt(val(), 10) || 0;
    else if (a === "--offsets") o.offsets = true;
    else fail(`unknown argument: ${a}`);
  }
  if (!o.corpus || !o.expected || !o.actual) fail("--corpus, --expected and --actual are required");
  return o;
}

function fail(msg) {
  process.stderr.write(`compare.js: ${msg}\n`);
  process.exit(2);
}

function readLines(p) {
  const s = fs.readFileSync(p, "utf8");
  const lines = s.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function excerpt(text, n = 60) {
  const cps = Array.from(text);
  const s = cps.slice(0, n).join("");
  return JSON.stringify(s) + (cps.length > n ? `… (${cps.length} chars)` : "");
}

function firstDiff(a, b, eq) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!eq(a[i], b[i])) return i;
  return a.length === b.length ? -1 : n;
}

const eqNum = (x, y) => x === y;
const eqPair = (x, y) => Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, k) => v === y[k]);

function around(arr, i, fmt) {
  const lo = Math.max(0, i - 3);
  const hi = Math.min(arr.length, i + 6);
  const parts = arr.slice(lo, hi).map((v, k) => (lo + k === i ? `>${fmt(v)}<` : fmt(v)));
  return `[${lo > 0 ? "… " : ""}${parts.join(", ")}${hi < arr.length ? " …" : ""}] (len ${arr.length})`;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const corpus = readLines(o.corpus);
  const exp = readLines(o.expected);
  const act = readLines(o.actual);
  const total = corpus.length;
  const problems = [];
  if (exp.length !== total) problems.push(`oracle output has ${exp.length} lines, corpus has ${total}`);
  if (act.length !== total) problems.push(`our output has ${act.length} lines, corpus has ${total}`);

  let identical = 0;
  const shown = [];
  let mismatches = 0;
  for (let i = 0; i < total; i++) {
    const e = exp[i];
    const a = act[i];
    if (e !== undefined && a !== undefined && e === a) {
      identical++;
      continue;
    }
    let detail = null;
    if (e === undefined || a === undefined) {
      detail = { why: a === undefined ? "missing in our output" : "missing in oracle output" };
    } else {
      let E, A;
      try {
        E = JSON.parse(e);
      } catch (err) {
        detail = { why: `oracle line is not JSON: ${err.message}` };
      }
      if (!detail) {
        try {
          A = JSON.parse(a);
        } catch (err) {
          detail = { why: `our line is not JSON: ${err.message}: ${JSON.stringify(a.slice(0, 80))}` };
        }
      }
      if (!detail) {
        const eIds = E.ids, aIds = A && A.ids;
        if (!Array.isArray(aIds)) {
          detail = { why: `our line has no "ids" array: ${JSON.stringify(a.slice(0, 80))}` };
        } else {
          const d = firstDiff(eIds, aIds, eqNum);
          if (d >= 0) {
            detail = { why: "ids differ", idx: d, hf: around(eIds, d, String), ours: around(aIds, d, String) };
          } else if (o.offsets) {
            const eOff = E.offsets, aOff = A.offsets;
            if (!Array.isArray(aOff)) {
              detail = { why: `our line has no "offsets" array` };
            } else {
              const d2 = firstDiff(eOff, aOff, eqPair);
              if (d2 >= 0) {
                const f = (p) => JSON.stringify(p);
                detail = { why: `offsets differ (ids equal; id there: ${eIds[d2]})`, idx: d2, hf: around(eOff, d2, f), ours: around(aOff, d2, f) };
              }
            }
          }
        }
      }
    }
    if (!detail) {
      identical++;
      continue;
    }
    mismatches++;
    if (shown.length < o.show) {
      let text = "";
      try {
        text = JSON.parse(corpus[i]).text;
      } catch (_) {
        text = corpus[i];
      }
      shown.push({ line: i + 1, text, ...detail });
    }
  }

  const name = o.name || "(unnamed)";
  for (const p of problems) process.stdout.write(`  ${name}: ${p}\n`);
  for (const s of shown) {
    process.stdout.write(`  line ${s.line}: ${excerpt(s.text)}\n`);
    process.stdout.write(`    ${s.why}${s.idx !== undefined ? ` at index ${s.idx}` : ""}\n`);
    if (s.hf !== undefined) {
      process.stdout.write(`    hf:   ${s.hf}\n`);
      process.stdout.write(`    ours: ${s.ours}\n`);
    }
  }
  if (mismatches > shown.length) process.stdout.write(`  … and ${mismatches - shown.length} more mismatching lines\n`);
  process.stdout.write(`parity ${name}: ${identical}/${total} identical\n`);
  process.exit(identical === total && problems.length === 0 ? 0 : 1);
}

main();
