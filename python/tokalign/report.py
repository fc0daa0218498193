"""Know a dataset before training, from Python: tokalign.stats() (the `stats` command) and
tokalign.audit() (the `audit` command: what LLaVA's own preprocess would do to it).

    r = tokalign.stats(shard="shard/")                              # a compiled shard (or its parts)
    r = tokalign.stats(data="mix.json", tokenizer="folder", template="llava_v1")
    r["zero_trained"], r.holds("quarantined-fraction>0.01"), print(r)
    r.check("zero-trained>0")                                       # raises StatsCheckFailed

    a = tokalign.audit("mix.json", tokenizer="folder", version="v1")
    a.zeroed, a.samples, a.working_versions, a.outcomes[0]["warning"]
"""
import json
import os
import warnings

from ._native import Auditor, Compiler, Stats, Tokenizer

__all__ = ["stats", "StatsReport", "StatsCheckFailed", "audit", "AuditReport"]


class StatsCheckFailed(RuntimeError):
    """A condition given to StatsReport.check() holds."""


class StatsReport(dict):
    """The statistics as `tokalign stats --json` writes them (a dict), plus the table (str())
    and the conditions of --fail-if (holds / check)."""

    def __init__(self, native):
        super().__init__(json.loads(native.json()))
        self._native = native

    def __str__(self):
        return self._native.table()

    def html(self, title="tokalign stats"):
        return self._native.html(title)

    def holds(self, condition):
        """(True or False, value) for "NAME OP NUMBER", e.g. "zero-trained>0" (names:
        Stats.metric_names(), or a quarantine reason)."""
        return self._native.holds(condition)

    def check(self, *conditions):
        """Raises StatsCheckFailed naming every condition that holds (as --fail-if)."""
        failed = []
        for c in conditions:
            held, value = self._native.holds(c)
            if held:
                failed.append(f"{c} (it is {value:g})")
        if failed:
            raise StatsCheckFailed("tokalign stats: FAILED: " + "; ".join(failed))
        return self


def stats(shard=None, data=None, tokenizer=None, template=None, max_len=0, **options):
    """Statistics of a compiled shard folder (`shard=`), or of a dataset file streamed through
    the compiler (`data=`, `tokenizer=`, `template=` and compile's options; samples are measured
    whole, max_len counts those over it)."""
    if (shard is None) == (data is None):
        raise ValueError("tokalign.stats: give shard= or data=, not both")
    s = Stats(max_len)
    if shard is not None:
        s.add_shard(os.fspath(shard))
    else:
        if tokenizer is None or template is None:
            raise ValueError("tokalign.stats: data= needs tokenizer= and template=")
        tok = tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer(os.fspath(tokenizer))
        s.add_data(Compiler(tok, template, **options), os.fspath(data))
    return StatsReport(s)


class AuditReport:
    """What LLaVA's own preprocessing does to each sample (outcomes: one dict per sample, as
    `tokalign audit --format jsonl` writes them) and the totals."""

    def __init__(self, auditor, outcomes):
        self.outcomes = outcomes
        self.conv = auditor.conv
        self.samples = len(outcomes)
        self.zeroed = sum(o["zeroed"] for o in outcomes)
        self.mismatched = sum(o["mismatch"] for o in outcomes)
        self.errors = {}
        for o in outcomes:
            if o["error"]:
                kind = o["error"].split(":")[0]
                self.errors[kind] = self.errors.get(kind, 0) + 1
        self.labels_differ = sum(o["labels_differ"] is not None for o in outcomes)
        self.ids_differ = sum(o["ids_differ"] is not None for o in outcomes)
        # The versions that train every one of the first 200 samples with this tokenizer, where
        # some sample is zeroed or raises.
        self.working_versions = auditor.working_versions() if self.zeroed or self.errors else None

    @property
    def ok(self):
        return not self.zeroed and not self.errors

    def __repr__(self):
        return (f"AuditReport({self.conv}: {self.samples} samples, {self.zeroed} zeroed ({self.mismatched} mismatches), "
                f"{sum(self.errors.values())} raise)")


def audit(data, tokenizer, version, impl="llava", transformers="4.37", pad_token=None, model_max_length=2048, ids=False):
    """Predicts LLaVA's own preprocess (train.py's preprocess_v1 / llama_2 / mpt / plain, or
    LLaVA-NeXT's, impl="llava-next") for each sample of `data`: a dataset file, or an iterable
    of records (dicts or JSON text). ids=True also returns LLaVA's input_ids and labels."""
    tok = tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer(os.fspath(tokenizer))
    a = Auditor(tok, version, impl=impl, transformers=transformers, pad_token=pad_token or "",
                model_max_length=model_max_length, ids=ids)
    if a.fallback:
        warnings.warn(f"tokalign.audit: version {version!r} is not one of {impl}'s conversation templates; its "
                      f"train() silently uses vicuna_v1, and so does this audit", stacklevel=2)
    if isinstance(data, (str, bytes, os.PathLike)):
        outcomes = a.audit_file(os.fspath(data))
    else:
        outcomes = [a.audit(r if isinstance(r, (str, bytes)) else json.dumps(r, ensure_ascii=False)) for r in data]
    return AuditReport(a, outcomes)
