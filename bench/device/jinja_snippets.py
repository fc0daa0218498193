"""Renders tests/chat/jinja/snippets.jsonl with transformers' own Jinja environment (the one
apply_chat_template compiles templates with), for the golden file the C++ interpreter is
tested against (src/chat/jinja/jinja_test.cc).

    python3 bench/device/jinja_snippets.py tests/chat/jinja/snippets.jsonl > snippets.expected.jsonl

Each output line: {"id", "text"} or {"id", "error"} (the exception's type and message).
strftime_now sees 2026-11-28 (a Saturday), as the C++ test fixes it.
"""
import datetime
import json
import sys

import jinja2
import transformers
from transformers.utils import chat_template_utils as ctu


def main():
    fixed = datetime.datetime(2026, 11, 28)
    out = sys.stdout
    for line in open(sys.argv[1], encoding="utf-8"):
        if not line.strip():
            continue
        case = json.loads(line)
        rec = {"id": case["id"]}
        try:
            tmpl = ctu._compile_jinja_template(case["template"])
            tmpl.globals["strftime_now"] = lambda fmt: fixed.strftime(fmt)
            variables = dict(messages=[], tools=None, documents=None, add_generation_prompt=False)
            variables.update(case["vars"])
            rec["text"] = tmpl.render(**variables)
        except Exception as e:  # noqa: BLE001 - the golden file records any failure
            rec["error"] = f"{type(e).__name__}: {e}"
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    sys.stderr.write(f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}\n")


if __name__ == "__main__":
    main()
