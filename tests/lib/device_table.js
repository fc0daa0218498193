// Shared by the tests that compare tokalign with tables made on the device machine
// (tests/compile/llava_labels.tsv, tests/audit/llava_outcomes.tsv).
"use strict";
const fs = require("fs");
const path = require("path");

// The rows of a tab-separated table, "#" lines skipped, each row an array of fields.
function readTable(tsv) {
  return fs.readFileSync(tsv, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
}

// Per key, the objects of DIR/KEY.jsonl by their "id", read once.
function byIdLoader(dir) {
  const cache = new Map();
  return (key) => {
    if (!cache.has(key)) {
      const m = new Map();
      for (const line of fs.readFileSync(path.join(dir, key + ".jsonl"), "utf8").split("\n").filter(Boolean)) {
        const o = JSON.parse(line);
        m.set(o.id, o);
      }
      cache.set(key, m);
    }
    return cache.get(key);
  };
}

module.exports = { readTable, byIdLoader };
