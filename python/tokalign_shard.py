#!/usr/bin/env python3
"""Reader for the shard folder that `tokalign compile --format shard` writes
(docs/shard-format.md). Needs only the standard library and numpy.

    from tokalign_shard import Shard
    shard = Shard("out/shard", verify=True)   # verify: sizes and checksums of every file
    s = shard[0]                              # Sample(id, input_ids, labels, images, flags, trained)
    s.input_ids, s.labels                     # int32 views into the memory-mapped files (no copy)
    shard.lengths                             # tokens per sample, for length-grouped sampling

Run as a script to print a summary: python3 python/tokalign_shard.py SHARD_DIR [--verify]
"""

import hashlib
import json
import mmap
import operator
import os
import sys
import zlib
from dataclasses import dataclass
from typing import List, NamedTuple

import numpy as np

__all__ = [
    "Shard", "Sample", "ImageSlot", "ShardError",
    "FORMAT", "FORMAT_VERSION", "FORMAT_VERSIONS", "SAMPLE_DTYPE", "IMAGE_DTYPE",
    "IGNORE_INDEX", "IMAGE_PLACEHOLDER",
    "FLAG_BOUNDARY_MERGE", "FLAG_TRUNCATED", "FLAG_SPECIAL_IN_CONTENT",
]

FORMAT = "tokalign-shard"
FORMAT_VERSION = 2  # the newest version this reader understands
# The versions it reads (others are refused), each with the checksum its manifest gives every
# file: version 2 is version 1 with CRC-32 (zlib's) instead of SHA-256.
FORMAT_VERSIONS = {1: "sha256", 2: "crc32"}

IGNORE_INDEX = -100        # label of a token that is not trained
IMAGE_PLACEHOLDER = -200   # input id of an image slot with --image-tokens placeholder (LLaVA's IMAGE_TOKEN_INDEX)

# Sample flags (samples.bin `flags`).
FLAG_BOUNDARY_MERGE = 1 << 0      # a token spans trained and untrained text
FLAG_TRUNCATED = 1 << 1           # earlier turns were dropped to fit --max-len
FLAG_SPECIAL_IN_CONTENT = 1 << 2  # message text contains a special-token string, kept as text

# One record of samples.bin (40 bytes) and of images.bin (32 bytes), little-endian, no padding.
SAMPLE_DTYPE = np.dtype([
    ("token_offset", "<u8"),  # first token in input_ids.bin / labels.bin (in tokens)
    ("id_offset", "<u8"),     # sample id in strings.bin (in bytes)
    ("length", "<u4"),        # tokens
    ("id_length", "<u4"),     # bytes
    ("image_start", "<u4"),   # first record in images.bin
    ("image_count", "<u4"),
    ("flags", "<u4"),
    ("trained", "<u4"),       # tokens whose label is not IGNORE_INDEX
])
IMAGE_DTYPE = np.dtype([
    ("path_offset", "<u8"),   # image path in strings.bin (in bytes)
    ("path_length", "<u4"),
    ("sample", "<u4"),        # index of the sample that holds the slot
    ("position", "<u4"),      # index of the slot's first token in that sample's input_ids
    ("token_count", "<u4"),   # 1 for a placeholder, else the expanded length
    ("width", "<u4"),         # pixels; 0: unknown
    ("height", "<u4"),        # pixels; 0: unknown
])
assert SAMPLE_DTYPE.itemsize == 40 and IMAGE_DTYPE.itemsize == 32
TOKEN_DTYPE = np.dtype("<i4")

# Every file a version-1 shard holds besides manifest.json.
FILES = ("input_ids.bin", "labels.bin", "samples.bin", "images.bin", "strings.bin", "quarantine.jsonl")
# Files a shard may have (checked when its manifest lists them): lengths.bin, one int32 per sample,
# LLaVA's modality_lengths (length with images counted, negative for text-only samples).
OPTIONAL_FILES = ("lengths.bin",)


class ShardError(Exception):
    """A shard that is missing, incomplete, corrupt or of an unknown format; the message names the file."""


class ImageSlot(NamedTuple):
    path: str
    position: int     # index of the slot's first token in the sample's input_ids
    token_count: int  # 1 for a placeholder, else the expanded length
    width: int        # 0: unknown
    height: int       # 0: unknown


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare to one bool
class Sample:
    id: str
    input_ids: np.ndarray  # int32, read-only view into input_ids.bin
    labels: np.ndarray     # int32, read-only view into labels.bin (IGNORE_INDEX where not trained)
    images: List[ImageSlot]
    flags: int
    trained: int           # number of labels that are not IGNORE_INDEX

    @property
    def boundary_merge(self) -> bool:
        return bool(self.flags & FLAG_BOUNDARY_MERGE)

    @property
    def truncated(self) -> bool:
        return bool(self.flags & FLAG_TRUNCATED)

    @property
    def special_in_content(self) -> bool:
        return bool(self.flags & FLAG_SPECIAL_IN_CONTENT)

    def __len__(self) -> int:
        return len(self.input_ids)


def _map_file(path: str, dtype: np.dtype) -> np.ndarray:
    """A read-only array over the whole file, memory-mapped (an empty array for an empty file,
    which mmap refuses). The size must be a whole number of records."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size % dtype.itemsize:
                raise ShardError(f"{path}: {size} bytes is not a whole number of {dtype.itemsize}-byte records "
                                 "(truncated?)")
            if size == 0:
                return np.empty(0, dtype)
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as e:
        raise ShardError(f"{path}: cannot read: {e.strerror or e}") from None
    return np.frombuffer(mm, dtype=dtype)  # keeps the mapping alive as its base


def _in_bounds(offset: np.ndarray, length: np.ndarray, size: int) -> np.ndarray:
    """Per record: offset + length <= size, in unsigned arithmetic that cannot wrap around."""
    size = np.uint64(size)
    return (offset <= size) & (length.astype(np.uint64) <= size - np.minimum(offset, size))


def _check(ok, path: str, message: str) -> None:
    if not ok:
        raise ShardError(f"{path}: {message}")


class Shard:
    """A tokalign shard folder, opened read-only. Opening reads manifest.json, refuses an unknown
    format or version, and checks every file's size and that every offset in the index stays in
    bounds, so reading a sample never goes out of range; `verify=True` also checks each file's
    checksum against the manifest (CRC-32 or SHA-256, as its format version says; reads
    everything once).

    Besides the samples: `manifest` (dict), `input_ids` and `labels` (every token, int32),
    `records` (samples.bin as SAMPLE_DTYPE) and `image_records` (images.bin as IMAGE_DTYPE),
    all read-only and memory-mapped."""

    def __init__(self, path, verify: bool = False):
        self.path = os.fspath(path)
        self.manifest = self._read_manifest()
        self._check_sizes()
        self.input_ids = _map_file(self._file("input_ids.bin"), TOKEN_DTYPE)  # all samples, concatenated
        self.labels = _map_file(self._file("labels.bin"), TOKEN_DTYPE)
        self.records = _map_file(self._file("samples.bin"), SAMPLE_DTYPE)     # the sample index
        self.image_records = _map_file(self._file("images.bin"), IMAGE_DTYPE)
        # LLaVA's modality_lengths per sample (None for shards written before lengths.bin existed)
        self.modality_lengths = (_map_file(self._file("lengths.bin"), TOKEN_DTYPE)
                                 if "lengths.bin" in self.manifest["files"] else None)
        self._strings = _map_file(self._file("strings.bin"), np.dtype("u1"))
        self._check_index()
        if verify:
            self.verify()

    # --- reading ---

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i) -> Sample:
        n = len(self.records)
        i = operator.index(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sample {i} out of range (the shard holds {n})")
        r = self.records[i]
        start, length = int(r["token_offset"]), int(r["length"])
        images = []
        for k in range(int(r["image_start"]), int(r["image_start"]) + int(r["image_count"])):
            im = self.image_records[k]
            _check(int(im["sample"]) == i, self._file("images.bin"),
                   f"image record {k} belongs to sample {int(im['sample'])}, but sample {i} lists it")
            images.append(ImageSlot(self._string(im["path_offset"], im["path_length"]), int(im["position"]),
                                    int(im["token_count"]), int(im["width"]), int(im["height"])))
        return Sample(id=self._string(r["id_offset"], r["id_length"]),
                      input_ids=self.input_ids[start:start + length],
                      labels=self.labels[start:start + length],
                      images=images, flags=int(r["flags"]), trained=int(r["trained"]))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per sample (uint32), e.g. for length-grouped sampling."""
        return self.records["length"]

    def quarantine(self) -> List[dict]:
        """The quarantined samples: {id, index, file, line?, byte_offset, reason, field, message} each."""
        path = self._file("quarantine.jsonl")
        out = []
        try:
            with open(path, "rb") as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            out.append(json.loads(line))
                        except ValueError as e:
                            raise ShardError(f"{path}: line {n}: not valid JSON: {e}") from None
        except OSError as e:
            raise ShardError(f"{path}: cannot read: {e.strerror or e}") from None
        return out

    def verify(self) -> None:
        """Checks every file's size and checksum against the manifest; raises ShardError on the first mismatch."""
        kind = FORMAT_VERSIONS[self.manifest["format_version"]]
        for name in self._names():
            path, want = self._file(name), self.manifest["files"][name]
            sha, crc, size = hashlib.sha256() if kind == "sha256" else None, 0, 0
            try:
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        if sha:
                            sha.update(chunk)
                        else:
                            crc = zlib.crc32(chunk, crc)
                        size += len(chunk)
            except OSError as e:
                raise ShardError(f"{path}: cannot read: {e.strerror or e}") from None
            _check(size == want["bytes"], path, f"{size} bytes, but the manifest says {want['bytes']}")
            got = sha.hexdigest() if sha else f"{crc:08x}"
            _check(got == want[kind], path, f"{kind} {got} does not match the manifest's {want[kind]} (corrupt or replaced)")

    # --- pickling (e.g. a Dataset sent to DataLoader workers): reopen by path, no data copied ---

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])

    def __repr__(self) -> str:
        return f"Shard({self.path!r}: {len(self)} samples, {len(self.input_ids)} tokens)"

    # --- internals ---

    def _file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def _string(self, offset, length) -> str:
        offset, length = int(offset), int(length)
        try:
            return self._strings[offset:offset + length].tobytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise ShardError(f"{self._file('strings.bin')}: bytes {offset}..{offset + length} are not UTF-8: {e}") from None

    def _read_manifest(self) -> dict:
        path = self._file("manifest.json")
        if not os.path.isdir(self.path):
            raise ShardError(f"{self.path}: not a folder (a shard is a folder holding manifest.json)")
        if not os.path.exists(path):
            raise ShardError(f"{path}: missing: not a tokalign shard, or its compile did not finish "
                             "(the manifest is written last)")
        try:
            with open(path, "rb") as f:
                m = json.load(f)
        except OSError as e:
            raise ShardError(f"{path}: cannot read: {e.strerror or e}") from None
        except ValueError as e:
            raise ShardError(f"{path}: not valid JSON: {e}") from None
        _check(isinstance(m, dict) and m.get("format") == FORMAT, path, f"not a {FORMAT} manifest "
               f"(format is {m.get('format') if isinstance(m, dict) else None!r})")
        v = m.get("format_version")
        _check(type(v) is int, path, f"format_version is {v!r}, expected an integer")
        _check(v in FORMAT_VERSIONS, path, f"format_version {v} is not supported: this reader reads versions "
               f"{', '.join(map(str, FORMAT_VERSIONS))} (use the tokalign_shard.py that comes with "
               f"{m.get('tool', 'the tool that wrote it')})")
        layout = m.get("layout")
        _check(isinstance(layout, dict), path, "no \"layout\" object")
        for key, want in (("sample_record_bytes", SAMPLE_DTYPE.itemsize), ("image_record_bytes", IMAGE_DTYPE.itemsize),
                          ("byte_order", "little")):
            _check(layout.get(key) == want, path, f"layout.{key} is {layout.get(key)!r}, expected {want!r}")
        counts, files = m.get("counts"), m.get("files")
        _check(isinstance(counts, dict), path, "no \"counts\" object")
        for key in ("in", "out", "quarantined", "tokens", "trained_tokens", "images"):
            _check(type(counts.get(key)) is int and counts[key] >= 0, path, f"counts.{key} is missing or not a count")
        _check(isinstance(files, dict), path, "no \"files\" object")
        kind = FORMAT_VERSIONS[v]
        for name in FILES:
            f = files.get(name)
            _check(isinstance(f, dict) and type(f.get("bytes")) is int and isinstance(f.get(kind), str), path,
                   f"files[{name!r}] is missing or lacks bytes/{kind}")
        return m

    def _names(self):
        return FILES + tuple(n for n in OPTIONAL_FILES if n in self.manifest["files"])

    def _check_sizes(self) -> None:
        """Each file exists and has the size the manifest records (catches truncation without reading)."""
        for name in self._names():
            path, want = self._file(name), self.manifest["files"][name]["bytes"]
            try:
                size = os.stat(path).st_size
            except OSError as e:
                raise ShardError(f"{path}: cannot read: {e.strerror or e}") from None
            _check(size == want, path, f"{size} bytes, but the manifest says {want} (truncated or replaced?)")

    def _check_index(self) -> None:
        """Counts reconcile with the files and every offset in samples.bin and images.bin is in bounds."""
        mpath, spath, ipath = self._file("manifest.json"), self._file("samples.bin"), self._file("images.bin")
        c = self.manifest["counts"]
        n_tokens, n_strings, n_images, n = len(self.input_ids), len(self._strings), len(self.image_records), len(self)
        _check(len(self.labels) == n_tokens, self._file("labels.bin"),
               f"{len(self.labels)} labels for {n_tokens} input ids")
        _check(c["in"] == c["out"] + c["quarantined"], mpath,
               f"counts do not reconcile: in {c['in']} != out {c['out']} + quarantined {c['quarantined']}")
        for what, have, key in (("samples", n, "out"), ("tokens", n_tokens, "tokens"), ("images", n_images, "images")):
            _check(have == c[key], mpath, f"counts.{key} is {c[key]}, but the files hold {have} {what}")
        if self.modality_lengths is not None:
            _check(len(self.modality_lengths) == n, self._file("lengths.bin"),
                   f"{len(self.modality_lengths)} lengths for {n} samples")
        if n:
            r = self.records
            bad = ~_in_bounds(r["token_offset"], r["length"], n_tokens)
            _check(not bad.any(), spath, f"sample {int(np.argmax(bad))}: tokens out of bounds of input_ids.bin")
            bad = ~_in_bounds(r["id_offset"], r["id_length"], n_strings)
            _check(not bad.any(), spath, f"sample {int(np.argmax(bad))}: id out of bounds of strings.bin")
            bad = ~_in_bounds(r["image_start"].astype(np.uint64), r["image_count"], n_images)
            _check(not bad.any(), spath, f"sample {int(np.argmax(bad))}: images out of bounds of images.bin")
            trained = int(r["trained"].sum(dtype=np.uint64))
            _check(trained == c["trained_tokens"], mpath,
                   f"counts.trained_tokens is {c['trained_tokens']}, but samples.bin sums to {trained}")
        if n_images:
            im = self.image_records
            bad = ~_in_bounds(im["path_offset"], im["path_length"], n_strings)
            _check(not bad.any(), ipath, f"image {int(np.argmax(bad))}: path out of bounds of strings.bin")
            bad = im["sample"] >= n
            _check(not bad.any(), ipath, f"image {int(np.argmax(bad))}: sample {int(im['sample'][np.argmax(bad)])} "
                   f"does not exist ({n} samples)")
            end = im["position"].astype(np.uint64) + im["token_count"]
            bad = end > self.records["length"][im["sample"]]
            _check(not bad.any(), ipath, f"image {int(np.argmax(bad))}: slot beyond the end of its sample")


class Parts:
    """A parted output (`tokalign compile --part-size K` or `--shard I/N` + `tokalign merge`):
    DIR/parts.json and DIR/part-NNNNN/, each a Shard. Reads like one Shard: len(), [i] across
    the parts in input order, iteration, `lengths`, `modality_lengths`, `quarantine()`,
    `verify()`. Opening checks parts.json (format, every part listed and present, counts
    adding up); each part is opened (and checked) when first used."""

    def __init__(self, path, verify: bool = False):
        self.path = os.fspath(path)
        index = os.path.join(self.path, "parts.json")
        try:
            with open(index, "rb") as f:
                self.manifest = json.load(f)
        except OSError as e:
            raise ShardError(f"{index}: cannot read: {e.strerror or e} (an unfinished parted output?)") from None
        except ValueError as e:
            raise ShardError(f"{index}: not valid JSON: {e}") from None
        _check(self.manifest.get("format") == "tokalign-parts", index, "not a tokalign parts index")
        _check(self.manifest.get("format_version") == 1, index,
               f"format version {self.manifest.get('format_version')!r}: this reader understands version 1")
        self.part_names = list(self.manifest["parts"])
        self._parts = [None] * len(self.part_names)
        # Samples per part from each part's manifest (small), for global indexing.
        counts = []
        for name in self.part_names:
            mpath = os.path.join(self.path, name, "manifest.json")
            try:
                with open(mpath, "rb") as f:
                    counts.append(int(json.load(f)["counts"]["out"]))
            except (OSError, ValueError, KeyError) as e:
                raise ShardError(f"{mpath}: cannot read the part's manifest: {e}") from None
        _check(sum(counts) == self.manifest["counts"]["out"], index,
               f"the parts hold {sum(counts)} samples, parts.json says {self.manifest['counts']['out']}")
        self._starts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        if verify:
            self.verify()

    def part(self, k: int) -> Shard:
        if self._parts[k] is None:
            self._parts[k] = Shard(os.path.join(self.path, self.part_names[k]))
        return self._parts[k]

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, i) -> Sample:
        n = len(self)
        i = operator.index(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sample {i} out of range (the parts hold {n})")
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        return self.part(k)[i - int(self._starts[k])]

    def __iter__(self):
        for k in range(len(self.part_names)):
            yield from self.part(k)

    @property
    def lengths(self) -> np.ndarray:
        return np.concatenate([self.part(k).lengths for k in range(len(self.part_names))] or [np.zeros(0, np.uint32)])

    @property
    def modality_lengths(self):
        ml = [self.part(k).modality_lengths for k in range(len(self.part_names))]
        return None if any(m is None for m in ml) else np.concatenate(ml or [np.zeros(0, np.int32)])

    def quarantine(self) -> List[dict]:
        return [q for k in range(len(self.part_names)) for q in self.part(k).quarantine()]

    def verify(self) -> None:
        for k in range(len(self.part_names)):
            self.part(k).verify()

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])

    def __repr__(self) -> str:
        return f"Parts({self.path!r}: {len(self)} samples in {len(self.part_names)} parts)"


def open_output(path, verify: bool = False):
    """What `tokalign compile --out DIR` wrote: a Shard, or Parts when DIR holds parts.json."""
    if os.path.exists(os.path.join(os.fspath(path), "parts.json")):
        return Parts(path, verify=verify)
    return Shard(path, verify=verify)


def _summary(shard: Shard) -> str:
    m, c = shard.manifest, shard.manifest["counts"]
    lines = [f"{shard.path}: {m['format']} version {m['format_version']}, written by {m.get('tool', '?')}"]
    tok = m.get("tokenizer", {})
    lines.append(f"  tokenizer: {tok.get('path', '?')} "
                 + ", ".join(f"{f['name']} sha256 {f['sha256'][:12]}" for f in tok.get("files", [])))
    tmpl = m.get("template", {})
    lines.append(f"  template:  {tmpl.get('name', '?')} (sha256 {str(tmpl.get('sha256', '?'))[:12]})")
    kind = FORMAT_VERSIONS[m["format_version"]]  # the input's checksum is of the files' kind
    for s in m.get("sources", []):
        lines.append(f"  source:    {s.get('path')} ({s.get('bytes')} bytes, {kind} {str(s.get(kind))[:12]})")
    lines.append(f"  samples:   {c['in']} in, {c['out']} out, {c['quarantined']} quarantined"
                 + "".join(f"\n               {k}: {v}" for k, v in sorted(c.get("quarantine_reasons", {}).items())))
    pct = 100.0 * c["trained_tokens"] / c["tokens"] if c["tokens"] else 0.0
    lines.append(f"  tokens:    {c['tokens']}, {c['trained_tokens']} trained ({pct:.1f}%)")
    if len(shard):
        L = shard.lengths
        lines.append(f"  length:    min {int(L.min())}, mean {float(L.mean()):.1f}, "
                     f"median {float(np.median(L)):.0f}, max {int(L.max())}")
    lines.append(f"  images:    {c['images']} slots")
    lines.append(f"  flags:     boundary_merge {c.get('boundary_merge', 0)}, truncated {c.get('truncated', 0)}, "
                 f"special_in_content {c.get('special_in_content', 0)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(description="Summarize a tokalign shard folder (docs/shard-format.md).")
    p.add_argument("shard", help="the shard folder")
    p.add_argument("--verify", action="store_true", help="check every file's size and checksum against the manifest")
    p.add_argument("--show", type=int, default=0, metavar="N", help="also print the first N samples")
    a = p.parse_args(argv)
    try:
        shard = open_output(a.shard, verify=a.verify)
        if isinstance(shard, Parts):
            c = shard.manifest["counts"]
            print(f"{shard.path}: tokalign-parts version 1, {len(shard.part_names)} parts of "
                  f"{shard.manifest['part_size']} records: {c['in']} in, {c['out']} out, {c['quarantined']} quarantined, "
                  f"{c['tokens']} tokens")
            for k in range(min(len(shard.part_names), 3)):
                print(_summary(shard.part(k)))
        else:
            print(_summary(shard))
        if a.verify:
            print("  verified:  every file's size and checksum match the manifest")
        for i in range(min(a.show, len(shard))):
            s = shard[i]
            print(f"[{i}] id={s.id!r} length={len(s)} trained={s.trained} flags={s.flags} "
                  f"images={[(im.path, im.position) for im in s.images]}")
            print(f"    input_ids={s.input_ids.tolist()}")
            print(f"    labels={s.labels.tolist()}")
    except ShardError as e:
        print(f"tokalign_shard: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
