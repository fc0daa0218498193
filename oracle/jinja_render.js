#!/usr/bin/env node
// Reference renderer for Hugging Face chat templates: @huggingface/jinja (the npm package
// transformers.js uses), called the way transformers' apply_chat_template calls jinja2.
//
//   node oracle/jinja_render.js (--config tokenizer_config.json [--name NAME]
//                                | --template FILE.jinja [--config tokens.json])
//        --messages FILE.jsonl [--add-generation-prompt] [--date YYYY-MM-DD]
//
// Input lines: {"id", "messages", optional "tools", "documents", "kwargs": {...}}.
// Output: one JSON line per input line, in order: {"text": "..."} or {"error": "..."}.
//
// Variables, as transformers passes them: messages, tools and documents (None when the line
// has none: transformers always passes both, so `tools is defined` holds and `tools is none`
// decides), add_generation_prompt, the special tokens (every key of the config ending in
// "_token" whose value is a string or an AddedToken {"content": ...}; null ones are left
// undefined, as special_tokens_map leaves them out), then the line's kwargs, which win over
// the special tokens ({**special_tokens_map, **kwargs}).
// Globals: raise_exception(msg) throws msg; strftime_now(fmt) formats --date at midnight, else
// the local time now. The template is lexed with trim_blocks and lstrip_blocks as jinja2
// applies them (see pythonWhitespace below) before @huggingface/jinja sees it.
// Beyond whitespace, {% raw %} and "+" tags, @huggingface/jinja's own semantics are kept, and
// they differ from jinja2's in places (None/True/dicts print as ""/true/JSON, str.strip(chars)
// ignores chars, lengths count UTF-16 units, ...): where they differ, the golden output is
// Python's, from bench/device/jinja_render.py (same command line) on the device machine.
"use strict";

const fs = require("fs");
const { Template, Environment, tokenize, parse } = require("@huggingface/jinja");

// Template.render declares its globals (raise_exception, strftime_now, range, ...) and then
// the caller's variables with Environment.set, which refuses a name twice. Let a later set
// replace an earlier one, so the caller's raise_exception / strftime_now (and any variable)
// shadow the globals, as render variables shadow environment globals in jinja2. Nothing but
// Template.render calls Environment.set.
const declareOnce = Environment.prototype.set;
Environment.prototype.set = function (name, value) {
  this.variables.delete(name);
  return declareOnce.call(this, name, value);
};

function usage(msg) {
  if (msg) process.stderr.write(`jinja_render: ${msg}\n`);
  process.stderr.write(
    "usage: node oracle/jinja_render.js (--config tokenizer_config.json [--name NAME] | " +
      "--template FILE.jinja [--config tokens.json]) --messages FILE.jsonl " +
      "[--add-generation-prompt] [--date YYYY-MM-DD]\n"
  );
  process.exit(2);
}

function parseArgs(argv) {
  const a = { config: null, name: null, template: null, messages: null, gen: false, date: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${k} needs a value`);
      return argv[++i];
    };
    if (k === "--config") a.config = val();
    else if (k === "--name") a.name = val();
    else if (k === "--template") a.template = val();
    else if (k === "--messages") a.messages = val();
    else if (k === "--add-generation-prompt") a.gen = true;
    else if (k === "--date") a.date = val();
    else if (k === "-h" || k === "--help") usage();
    else usage(`unknown argument ${k}`);
  }
  if (!a.messages) usage("--messages is required");
  if (!a.template && !a.config) usage("--config or --template is required");
  if (a.date && !/^\d{4}-\d{2}-\d{2}$/.test(a.date)) usage("--date must be YYYY-MM-DD");
  return a;
}

// The template from a tokenizer_config.json: a string, or a list of {name, template}.
function templateFromConfig(config, name) {
  const t = config.chat_template;
  if (typeof t === "string") {
    if (name && name !== "default") throw new Error(`chat_template is a single template; no "${name}"`);
    return t;
  }
  if (Array.isArray(t)) {
    const want = name || "default";
    const hit = t.find((x) => x && x.name === want);
    if (!hit) throw new Error(`no chat template named "${want}" (have: ${t.map((x) => x.name).join(", ")})`);
    return hit.template;
  }
  throw new Error("the config has no chat_template");
}

// Special tokens: string values, or AddedToken dicts ({"content": ...}), of keys ending in _token.
function specialTokens(config) {
  const out = {};
  for (const [k, v] of Object.entries(config || {})) {
    if (!k.endsWith("_token")) continue;
    if (typeof v === "string") out[k] = v;
    else if (v && typeof v === "object" && !Array.isArray(v) && typeof v.content === "string") out[k] = v.content;
  }
  return out;
}

// jinja2's lexer with trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, applied
// to the source before @huggingface/jinja lexes it (with its own trim/lstrip turned off: its
// regex version also strips inside {% raw %} and after a "%}" inside a string literal):
//   - newlines \r\n and \r become \n (jinja2 normalises them in data and string literals);
//   - lstrip_blocks: spaces and tabs between the start of a line and a {% or {# tag are
//     dropped (not before {{, not for {%+ / {#+);
//   - trim_blocks: one \n right after a %} or #} is dropped (not after "-%}", which strips on
//     its own, nor "+%}", nor after {% raw %});
//   - {% raw %}...{% endraw %}, which @huggingface/jinja lacks, becomes {{ "its content" }}.
function pythonWhitespace(src) {
  src = src.replace(/\r\n?/g, "\n");
  let out = "";
  let i = 0;
  const n = src.length;
  // lstrip_blocks for a tag at src[open]: when only spaces and tabs stand between the start of
  // its line (in the source) and the tag, they are the tail of out: drop them.
  const lstrip = (open) => {
    const ls = src.lastIndexOf("\n", open - 1) + 1;
    const ws = src.slice(ls, open);
    if (/^[ \t]*$/.test(ws) && out.endsWith(ws)) out = out.slice(0, out.length - ws.length);
  };
  // End of a tag body starting at j (after "{%" / "{{"), honouring string literals and
  // bracket depth; returns the index of the closing delimiter, or -1.
  const scanTag = (j, close) => {
    let depth = 0;
    while (j < n) {
      const c = src[j];
      if (c === "'" || c === '"') {
        j++;
        while (j < n && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
        j++;
        continue;
      }
      if (depth === 0 && src.startsWith(close, j)) return j;
      if (c === "{" || c === "[" || c === "(") depth++;
      else if ((c === "}" || c === "]" || c === ")") && depth > 0) depth--;
      j++;
    }
    return -1;
  };
  const trimAfter = (end) => {
    // end: index of the closing "%}" / "#}"; returns where the text after the tag starts
    const pre = src[end - 1];
    const next = end + 2;
    return pre !== "-" && pre !== "+" && src[next] === "\n" ? next + 1 : next;
  };
  while (i < n) {
    const open = src.indexOf("{", i);
    if (open < 0 || open + 1 >= n) {
      out += src.slice(i);
      break;
    }
    const kind = src[open + 1];
    if (kind !== "%" && kind !== "#" && kind !== "{") {
      out += src.slice(i, open + 1);
      i = open + 1;
      continue;
    }
    out += src.slice(i, open);
    const plus = src[open + 2] === "+";
    if (kind === "{") {
      const end = scanTag(open + 2, "}}");
      if (end < 0) {
        out += src.slice(open);
        break;
      }
      out += src.slice(open, end + 2);
      i = end + 2;
      continue;
    }
    const end = kind === "#" ? src.indexOf("#}", open + 2) : scanTag(open + 2, "%}");
    if (end < 0) {
      out += src.slice(open);
      break;
    }
    if (!plus) lstrip(open);
    // "+" only turns lstrip / trim off, done here; @huggingface/jinja does not parse it
    const tag = src.slice(open, end + 2).replace(/^([{][%#])\+/, "$1").replace(/\+([%#][}])$/, "$1");
    out += tag;
    i = trimAfter(end);
    if (kind === "%" && /^[-+]?\s*raw\s*[-+]?$/.test(src.slice(open + 2, end))) {
      // {% raw %}: @huggingface/jinja has no raw block, so its content becomes a string
      // literal. jinja2 keeps the newline after {% raw %}; "-" on either tag strips as usual;
      // lstrip_blocks applies to the line before {% endraw %}.
      const hit = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;
      hit.lastIndex = end + 2;
      const m = hit.exec(src);
      if (!m) throw new Error("missing {% endraw %}");
      let body = src.slice(end + 2, m.index);
      if (src[end - 1] === "-") body = body.replace(/^\s+/, "");
      if (m[1] === "-") body = body.replace(/\s+$/, "");
      else if (m[1] !== "+") body = body.replace(/\n[ \t]*$/, "\n");
      out = out.slice(0, out.length - tag.length); // the {% raw %} tag just copied
      out += `{{${src[open + 2] === "-" ? "-" : ""} ${JSON.stringify(body)} ${m[2] === "-" ? "-" : ""}}}`;
      i = trimAfter(m.index + m[0].length - 2);
    }
  }
  return out;
}

function compile(source) {
  const t = new Template("");
  t.parsed = parse(tokenize(pythonWhitespace(source), {}));
  return t;
}

// Python's datetime.strftime (C locale, glibc) for the directives chat templates use.
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
function strftime(d, fmt) {
  const p2 = (x) => String(x).padStart(2, "0");
  const start = new Date(d.getFullYear(), 0, 1);
  const yday = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()) - start) / 86400000) + 1;
  const h12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
  const f = {
    Y: () => String(d.getFullYear()), y: () => p2(d.getFullYear() % 100),
    m: () => p2(d.getMonth() + 1), d: () => p2(d.getDate()), e: () => String(d.getDate()).padStart(2, " "),
    H: () => p2(d.getHours()), I: () => p2(h12), M: () => p2(d.getMinutes()), S: () => p2(d.getSeconds()),
    p: () => (d.getHours() < 12 ? "AM" : "PM"), j: () => String(yday).padStart(3, "0"),
    a: () => DAYS[d.getDay()].slice(0, 3), A: () => DAYS[d.getDay()], w: () => String(d.getDay()),
    b: () => MONTHS[d.getMonth()].slice(0, 3), h: () => MONTHS[d.getMonth()].slice(0, 3),
    B: () => MONTHS[d.getMonth()], "%": () => "%",
  };
  f.F = () => `${f.Y()}-${f.m()}-${f.d()}`;
  f.D = () => `${f.m()}/${f.d()}/${f.y()}`;
  f.T = () => `${f.H()}:${f.M()}:${f.S()}`;
  return fmt.replace(/%(-?)([A-Za-z%])/g, (all, dash, c) => {
    if (!f[c]) return all;
    const v = f[c]();
    return dash ? v.replace(/^[0 ]+(?=.)/, "") : v;
  });
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const config = a.config ? JSON.parse(fs.readFileSync(a.config, "utf8")) : null;
  let source;
  try {
    source = a.template ? fs.readFileSync(a.template, "utf8") : templateFromConfig(config, a.name);
  } catch (e) {
    usage(e.message);
  }
  const tokens = specialTokens(config);
  const now = a.date ? new Date(`${a.date}T00:00:00`) : null;
  const globals = {
    raise_exception: (msg) => {
      throw new Error(String(msg));
    },
    strftime_now: (fmt) => strftime(now || new Date(), String(fmt)),
  };

  let template = null;
  let compileError = null;
  try {
    template = compile(source);
  } catch (e) {
    compileError = e;
  }
  const out = [];
  const lines = fs.readFileSync(a.messages, "utf8").split("\n");
  for (const line of lines) {
    if (!line.trim()) continue;
    const item = JSON.parse(line);
    let rec;
    if (compileError) {
      rec = { error: `TemplateSyntaxError: ${compileError.message}` };
    } else {
      const vars = {
        ...globals,
        messages: item.messages,
        tools: item.tools === undefined ? null : item.tools,
        documents: item.documents === undefined ? null : item.documents,
        add_generation_prompt: a.gen,
        ...tokens,
        ...(item.kwargs || {}),
      };
      try {
        rec = { text: template.render(vars) };
      } catch (e) {
        rec = { error: `${e && e.name ? e.name : "Error"}: ${e && e.message !== undefined ? e.message : String(e)}` };
      }
    }
    out.push(JSON.stringify(rec));
  }
  process.stdout.write(out.length ? out.join("\n") + "\n" : "");
}

main();
