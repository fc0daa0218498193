#!/usr/bin/env python3
"""On the device machine: visual token counts per image size from the original code, for
tests/vision/vision_counts.tsv. Run from a folder holding llava-next/ (git archive of
LLaVA-VL/LLaVA-NeXT df17966: llava/mm_utils.py, llava/constants.py, llava/model/llava_arch.py);
OUT as argument. Columns: width, height, then per policy the count or "error":
  llava-next       LLaVA-NeXT's own select_best_resolution / get_anyres_image_grid_shape (mm_utils)
                   and unpad_image (llava_arch, executed unchanged), with prepare_inputs_labels_for_
                   multimodal's glue for anyres + spatial_unpad: base 24*24 + rows*(cols+1); CLIP-336,
                   LLaVA-1.6 pinpoints
  llava-onevision  the same with "(1x1),...,(6x6)" pinpoints, SigLIP-384 (27x27), anyres_max_9
                   (the times > 1.1 bilinear shrink, run with torch)
  hf-llava-next    transformers' LlavaNextProcessor._get_number_of_features - 1 (default strategy)
  hf-onevision     transformers' LlavaOnevisionProcessor._get_number_of_features - 1 (that processor adds
                   no CLS: its own count is this + 1)
  qwen2-vl         transformers' Qwen2-VL smart_resize: h*w/(14*14*4) + 2
  qwen2.5-vl       the same with Qwen2.5-VL's max_pixels 12845056
Nothing of LLaVA is stored in this repository: its functions are read from the archive."""
import ast, math, os, sys, types
import torch
import torch.nn as nn
out = sys.argv[1]
sys.path.insert(0, "llava-next")
from llava.mm_utils import get_anyres_image_grid_shape
src = open("llava-next/llava/model/llava_arch.py").read()
ns = {"torch": torch, "math": math}
for node in ast.parse(src).body:
    if isinstance(node, ast.FunctionDef) and node.name == "unpad_image":
        exec(compile(ast.Module(body=[node], type_ignores=[]), "llava_arch.py:unpad_image", "exec"), ns)
unpad_image = ns["unpad_image"]
NEXT = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
OV = "(1x1),(1x2),(1x3),(1x4),(1x5),(1x6),(2x1),(2x2),(2x3),(2x4),(2x5),(2x6),(3x1),(3x2),(3x3),(3x4),(3x5),(3x6),(4x1),(4x2),(4x3),(4x4),(4x5),(4x6),(5x1),(5x2),(5x3),(5x4),(5x5),(5x6),(6x1),(6x2),(6x3),(6x4),(6x5),(6x6)"

def llava(W, H, pinpoints, crop, n, max_patches):
    gw, gh = get_anyres_image_grid_shape((W, H), pinpoints, crop)
    f = torch.zeros(gh, gw, n, n, 1)
    unit = f.shape[2]
    f = f.permute(4, 0, 2, 1, 3).contiguous().flatten(1, 2).flatten(2, 3)
    f = unpad_image(f, (W, H))
    c, h, w = f.shape
    if max_patches:
        times = math.sqrt(h * w / (max_patches * unit**2))
        if times > 1.1:
            f = nn.functional.interpolate(f[None], [int(h // times), int(w // times)], mode="bilinear")[0]
    return n * n + f.shape[1] * (f.shape[2] + 1)

def hf(cls_path, pinpoints, crop, strategy_extra):
    import importlib
    mod, cls = cls_path.rsplit(".", 1)
    C = getattr(importlib.import_module(mod), cls)
    p = C.__new__(C)
    p.patch_size = 14
    p.vision_feature_select_strategy = "default"
    p.num_additional_image_tokens = 1
    p.num_image_tokens = (crop // 14) ** 2
    for k, v in strategy_extra.items():
        setattr(p, k, v)
    p.image_processor = types.SimpleNamespace(image_grid_pinpoints=pinpoints, size={"height": crop, "width": crop, "shortest_edge": crop},
                                              crop_size={"height": crop, "width": crop})
    return lambda W, H: p._get_number_of_features(H, W, crop, crop) - 1

cols = {"llava-next": lambda W, H: llava(W, H, NEXT, 336, 24, 0),
        "llava-onevision": lambda W, H: llava(W, H, OV, 384, 27, 9)}
try:
    cols["hf-llava-next"] = hf("transformers.models.llava_next.processing_llava_next.LlavaNextProcessor", NEXT, 336, {})
except Exception as e:
    print("hf-llava-next unavailable:", e, file=sys.stderr)
try:
    ovp = [[i * 384, j * 384] for i in range(1, 7) for j in range(1, 7)]
    cols["hf-onevision"] = hf("transformers.models.llava_onevision.processing_llava_onevision.LlavaOnevisionProcessor", ovp, 384,
                              {"vision_aspect_ratio": "anyres_max_9"})
except Exception as e:
    print("hf-onevision unavailable:", e, file=sys.stderr)
try:
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize
    def qwen(W, H):
        h, w = smart_resize(H, W, factor=28, min_pixels=56 * 56, max_pixels=28 * 28 * 1280)
        return h * w // (14 * 14 * 4) + 2
    cols["qwen2-vl"] = qwen
    def qwen25(W, H):
        h, w = smart_resize(H, W, factor=28, min_pixels=56 * 56, max_pixels=12845056)
        return h * w // (14 * 14 * 4) + 2
    cols["qwen2.5-vl"] = qwen25
except Exception as e:
    print("qwen2-vl unavailable:", e, file=sys.stderr)

V = [1, 2, 13, 14, 27, 28, 56, 100, 223, 224, 335, 336, 337, 383, 384, 480, 500, 640, 671, 672, 673, 768, 1000, 1008,
     1024, 1080, 1152, 1920, 2304, 3000, 4032, 8000]
sizes = [(w, h) for w in V for h in V]
import random
rng = random.Random(7)
sizes += [(rng.randint(1, 8000), rng.randint(1, 8000)) for _ in range(200)] + [(rng.randint(1, 600), rng.randint(1, 600)) for _ in range(100)]
names = list(cols)
errs = {}
with open(os.path.join(out, "vision_counts.tsv"), "w") as f:
    import transformers
    f.write(f"# transformers {transformers.__version__}, torch {torch.__version__}; LLaVA-NeXT df17966\n")
    f.write("# width\theight\t" + "\t".join(names) + "\n")
    for W, H in sizes:
        row = []
        for k in names:
            try:
                row.append(str(int(cols[k](W, H))))
            except Exception as e:
                errs[k] = f"{type(e).__name__}: {e}"
                row.append("error")
        f.write(f"{W}\t{H}\t" + "\t".join(row) + "\n")
print(len(sizes), "sizes;", names, file=sys.stderr)
for k, v in errs.items():
    print("example error", k, v[:200], file=sys.stderr)
