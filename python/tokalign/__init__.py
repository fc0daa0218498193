"""tokalign from Python: the C++ core (tokenizers bit-exact with Hugging Face, the label
compiler) and, in tokalign.torch, a Dataset over compiled shards, a collator and a drop-in
for LLaVA's preprocess().

    import tokalign
    tok = tokalign.Tokenizer("path/to/model-folder")
    ids = tok.encode("Hello world")                      # int32 numpy array
    c = tokalign.Compiler(tok, "llava_v1")
    s = c.compile({"id": "1", "conversations": [...]})   # dict: input_ids, labels, images, ...
    tokalign.compile_sample(record, tokenizer="path", template="llava_v1")
    tokalign.stats(shard="shard/").check("zero-trained>0")
    tokalign.audit("mix.json", tokenizer="path", version="v1").zeroed

The native module is tokalign._native (built by CMake with -DTOKALIGN_PYTHON=ON, or by
`pip install .`). In a build tree, TOKALIGN_NATIVE_DIR names the folder holding it.
"""
import json
import os

if os.environ.get("TOKALIGN_NATIVE_DIR"):
    __path__.append(os.environ["TOKALIGN_NATIVE_DIR"])  # noqa: F821 - the package's own __path__

from ._native import Auditor, Compiler, Detector, Error, QuarantineError, Stats, Tokenizer  # noqa: E402
from .report import AuditReport, StatsCheckFailed, StatsReport, audit, stats  # noqa: E402

__all__ = ["Tokenizer", "Compiler", "Detector", "Error", "QuarantineError", "compile_sample", "stats", "audit",
           "Stats", "Auditor", "StatsReport", "StatsCheckFailed", "AuditReport", "IGNORE_INDEX", "IMAGE_TOKEN_INDEX"]

IGNORE_INDEX = -100       # label of a token that is not trained
IMAGE_TOKEN_INDEX = -200  # input id of an image placeholder (LLaVA's convention)

_compilers = {}


def _record_text(record):
    return record if isinstance(record, (str, bytes)) else json.dumps(record, ensure_ascii=False)


def compile_sample(record, tokenizer, template, **options):
    """Compiles one dataset record (a dict, or its JSON text: LLaVA "conversations", ShareGPT or
    "messages") as `tokalign compile` does, and returns its input_ids, labels (-100 where not
    trained), image slots and flags. Raises QuarantineError (reason, field, detail) for a sample
    compile would quarantine. Tokenizers and compilers are cached per argument set."""
    key = (tokenizer, template, tuple(sorted(options.items())))
    c = _compilers.get(key)
    if c is None:
        c = _compilers[key] = Compiler(Tokenizer(tokenizer), template, **options)
    return c.compile(_record_text(record))
