"""Renders chat templates with transformers' own code path (the one apply_chat_template uses):
chat_template_utils._compile_jinja_template (jinja2's ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, the {% generation %} tracker, loopcontrols, transformers' tojson,
raise_exception and strftime_now) and chat_template_utils.render_jinja_template. The golden
side of oracle/jinja_render.js: same command line, same output.

    python3 bench/device/jinja_render.py (--config tokenizer_config.json [--name NAME]
                                          | --template FILE.jinja [--config tokens.json])
        --messages FILE.jsonl [--add-generation-prompt] [--date YYYY-MM-DD] [--generation-spans]
        [--out FILE]
    python3 bench/device/jinja_render.py --many RUNS.txt   # one run (the options above) a line

Input lines: {"id", "messages", optional "tools", "documents", "kwargs": {...}}.
Output: one JSON line per input line, in order: {"text": ...} or {"error": "Type: message"};
with --generation-spans also "generation": [[start, end], ...], the {% generation %} spans
that return_assistant_tokens_mask=True uses (render_jinja_template's generation_indices),
as indices of Python str (code points) into "text".

Variables as apply_chat_template passes them: tools and documents (None when the line has
none), add_generation_prompt, then {**special_tokens_map, **kwargs}: the special tokens are
the config's keys ending in "_token" whose value is a string or an AddedToken dict (its
"content"), null ones left out; the line's "kwargs" win over them. --date fixes strftime_now
to that day at midnight.
"""
import argparse
import datetime
import json
import shlex
import sys

import jinja2
import transformers
from transformers.utils import chat_template_utils as ctu


def template_from_config(config, name):
    t = config.get("chat_template")
    if isinstance(t, str):
        if name and name != "default":
            raise SystemExit(f'jinja_render: chat_template is a single template; no "{name}"')
        return t
    if isinstance(t, list):
        want = name or "default"
        for entry in t:
            if isinstance(entry, dict) and entry.get("name") == want:
                return entry["template"]
        raise SystemExit(f'jinja_render: no chat template named "{want}"')
    raise SystemExit("jinja_render: the config has no chat_template")


def special_tokens(config):
    out = {}
    for k, v in (config or {}).items():
        if not k.endswith("_token"):
            continue
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, dict) and isinstance(v.get("content"), str):
            out[k] = v["content"]
    return out


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config")
    ap.add_argument("--name")
    ap.add_argument("--template")
    ap.add_argument("--messages")
    ap.add_argument("--add-generation-prompt", action="store_true")
    ap.add_argument("--date", help="YYYY-MM-DD: strftime_now formats this day at midnight")
    ap.add_argument("--generation-spans", action="store_true")
    ap.add_argument("--out", help="write here instead of standard output")
    ap.add_argument("--many", metavar="FILE",
                    help="one run per line of FILE (the options above, --out included), in one process")
    return ap


def run(args, ap):
    if not args.config and not args.template:
        ap.error("--config or --template is required")
    if not args.messages:
        ap.error("--messages is required")
    config = None
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
    if args.template:
        with open(args.template, encoding="utf-8", newline="") as f:
            source = f.read()
    else:
        source = template_from_config(config, args.name)
    tokens = special_tokens(config)

    # _compile_jinja_template is lru_cached on the source: the Template object patched here is
    # the one render_jinja_template gets back for the same source. The patch goes into the
    # template's own globals (shadowing the environment's strftime_now), and is taken away
    # again for a run without --date.
    compile_error = None
    compiled = None
    try:
        compiled = ctu._compile_jinja_template(source)
    except Exception as e:  # noqa: BLE001 - a syntax error becomes every line's error
        compile_error = f"{type(e).__name__}: {e}"
    if compiled is not None:
        if args.date:
            fixed = datetime.datetime.strptime(args.date, "%Y-%m-%d")
            compiled.globals["strftime_now"] = lambda fmt: fixed.strftime(fmt)
        else:
            compiled.globals.pop("strftime_now", None)

    render = getattr(ctu, "render_jinja_template", None)
    with open(args.messages, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    records = []
    for line in lines:
        item = json.loads(line)
        rec = {}
        if compile_error is not None:
            rec["error"] = compile_error
        else:
            template_kwargs = {**tokens, **item.get("kwargs", {})}
            try:
                if render is not None:
                    rendered, indices = render(
                        conversations=[item["messages"]],
                        tools=item.get("tools"),
                        documents=item.get("documents"),
                        chat_template=source,
                        return_assistant_tokens_mask=args.generation_spans,
                        add_generation_prompt=args.add_generation_prompt,
                        **template_kwargs,
                    )
                    rec["text"] = rendered[0]
                    if args.generation_spans:
                        rec["generation"] = [list(s) for s in indices[0]]
                else:  # transformers without render_jinja_template: the same calls by hand
                    variables = dict(messages=item["messages"], tools=item.get("tools"),
                                     documents=item.get("documents"),
                                     add_generation_prompt=args.add_generation_prompt, **template_kwargs)
                    if args.generation_spans:
                        blocks, spans = [], []
                        with compiled.environment.activate_tracker(blocks, spans):
                            for block in compiled.generate(**variables):
                                blocks.append(block)
                        rec["text"] = "".join(blocks)
                        rec["generation"] = [list(s) for s in spans]
                    else:
                        rec["text"] = compiled.render(**variables)
            except Exception as e:  # noqa: BLE001 - the golden file records any failure
                rec = {"error": f"{type(e).__name__}: {e}"}
        records.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.writelines(records)
    else:
        sys.stdout.reconfigure(encoding="utf-8")
        sys.stdout.writelines(records)


def main():
    ap = build_parser()
    args = ap.parse_args()
    if args.many:
        with open(args.many, encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.lstrip().startswith("#"):
                    run(ap.parse_args(shlex.split(line)), ap)
    else:
        run(args, ap)
    sys.stderr.write(f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}\n")


if __name__ == "__main__":
    main()
