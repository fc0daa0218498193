#!/usr/bin/env python3
"""Writes test images of every format tokalign probes into OUT, with PIL (Debian python3-pil), and
OUT/expected.jsonl: {"path", "width", "height", "format"} from PIL's Image.open(path).size (the
oracle; PIL's size ignores EXIF rotation, as LLaVA's does). Also OUT/bad/: truncated, lying and
wrong-magic files that must give an error line. Deterministic (seeded)."""
import io, json, os, random, struct, sys
from PIL import Image, features

out = sys.argv[1]
os.makedirs(os.path.join(out, "bad"), exist_ok=True)
rng = random.Random(11)
sizes = [(1, 1), (2, 3), (17, 5), (336, 336), (640, 480), (479, 641), (1000, 7), (7, 1000), (1920, 1080)]
sizes += [(rng.randint(1, 3000), rng.randint(1, 3000)) for _ in range(25)]
written = []

def save(img, name, **kw):
    p = os.path.join(out, name)
    img.save(p, **kw)
    written.append(name)

for k, (w, h) in enumerate(sizes):
    rgb = Image.new("RGB", (w, h), (rng.randrange(256), 40, 90))
    save(rgb, f"i{k}.png")
    save(rgb.convert("P"), f"i{k}p.png")
    save(rgb, f"i{k}.jpg", quality=85)
    save(rgb, f"i{k}prog.jpg", progressive=True)
    save(rgb.convert("CMYK"), f"i{k}cmyk.jpg")
    save(rgb.convert("L"), f"i{k}gray.jpg")
    save(rgb, f"i{k}.gif")
    save(rgb, f"i{k}.bmp")
    save(rgb, f"i{k}.tif")
    save(rgb, f"i{k}lzw.tif", compression="tiff_lzw")
    if features.check("webp"):
        save(rgb, f"i{k}.webp", quality=80)
        save(rgb, f"i{k}ll.webp", lossless=True)
        save(Image.new("RGBA", (w, h), (1, 2, 3, 4)), f"i{k}a.webp")  # alpha: VP8X
    if k < 6:
        # EXIF orientation 6 (rotate 90): PIL's size stays the stored one.
        exif = Image.Exif()
        exif[0x0112] = 6
        save(rgb, f"i{k}exif.jpg", exif=exif.tobytes())
        # A big APP segment before the frame header (an ICC-like blob).
        save(rgb, f"i{k}icc.jpg", icc_profile=bytes(60000))

# Big-endian (Motorola) TIFF, written by hand: an 8-bit grey strip image whose IFD has the
# tags PIL needs; width as LONG, height as SHORT.
def tiff_be(w, h):
    tags = [(256, 4, w), (257, 3, h), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0), (277, 3, 1), (278, 4, h), (279, 4, w * h)]
    ifd_len = 2 + 12 * len(tags) + 4
    data_at = 8 + ifd_len
    ifd = struct.pack(">H", len(tags))
    for tag, typ, val in tags:
        val = data_at if tag == 273 else val
        ifd += struct.pack(">HHI", tag, typ, 1) + (struct.pack(">HH", val, 0) if typ == 3 else struct.pack(">I", val))
    return b"MM\0*" + struct.pack(">I", 8) + ifd + b"\0\0\0\0" + bytes(w * h)
for k, (w, h) in enumerate(sizes[:6]):
    name = f"be{k}.tif"
    open(os.path.join(out, name), "wb").write(tiff_be(w, h))
    written.append(name)
# Top-down BMP: negative height.
name = "topdown.bmp"
b = bytearray(open(os.path.join(out, "i4.bmp"), "rb").read())
b[22:26] = struct.pack("<i", -struct.unpack("<i", bytes(b[22:26]))[0])
open(os.path.join(out, name), "wb").write(bytes(b))
written.append(name)

with open(os.path.join(out, "expected.jsonl"), "w") as f:
    for name in written:
        try:
            with Image.open(os.path.join(out, name)) as im:
                f.write(json.dumps({"path": name, "width": im.size[0], "height": im.size[1], "format": im.format}) + "\n")
        except Exception as e:  # PIL cannot read our hand-made file: leave it out
            print("PIL cannot open", name, e, file=sys.stderr)

png = open(os.path.join(out, "i3.png"), "rb").read()
jpg = open(os.path.join(out, "i3.jpg"), "rb").read()
bad = {
    "empty.png": b"",
    "magic-only.png": png[:8],
    "truncated-ihdr.png": png[:20],
    "zero.png": png[:16] + b"\0\0\0\0" + png[20:],
    "huge.png": png[:16] + b"\xff\xff\xff\xff" + png[20:],
    "no-sof.jpg": b"\xff\xd8\xff\xda\0\x02",
    "loop.jpg": b"\xff\xd8" + b"\xff\xe0\x00\x02" * 1000,
    "truncated.jpg": jpg[:30],
    "text.txt": b"hello, not an image",
    "short-len.jpg": b"\xff\xd8\xff\xe0\x00\x01",
    "gif-zero.gif": b"GIF89a\0\0\0\0",
    "riff-other.webp": b"RIFF\0\0\0\0WAVEfmt ",
    "bmp-header.bmp": b"BM" + bytes(12) + struct.pack("<I", 99) + bytes(20),
}
for name, data in bad.items():
    open(os.path.join(out, "bad", name), "wb").write(data)
print(len(written), "images,", len(bad), "bad files", file=sys.stderr)
