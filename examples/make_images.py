#!/usr/bin/env python3
"""Writes the demo's images (examples/images/*.png): simple generated pictures of several
sizes and aspect ratios, made with the standard library only (zlib + the PNG format), so
the example dataset carries no third-party pixels. Deterministic: rerunning rewrites the
same bytes."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, w, h, pixel):
    rows = bytearray()
    for y in range(h):
        rows.append(0)  # filter: none
        for x in range(w):
            rows.extend(pixel(x, y))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def sunset(x, y):  # sky gradient over a dark sea
    return (255, max(0, 200 - y), 80) if y < 160 else (20, 40, 90 + (x % 7))


def checker(x, y):
    return (230, 230, 230) if ((x // 32) + (y // 32)) % 2 else (40, 40, 40)


def bus(x, y):  # a red rectangle on grey
    return (200, 30, 30) if 60 < x < 260 and 80 < y < 200 else (128, 128, 128)


def stripes(x, y):
    return (30, 120 + (y // 20) % 2 * 100, 60)


IMAGES = {
    "sunset.png": (336, 336, sunset),
    "checker.png": (640, 480, checker),
    "bus.png": (320, 240, bus),
    "tall.png": (120, 360, stripes),
}

if __name__ == "__main__":
    os.makedirs(os.path.join(HERE, "images"), exist_ok=True)
    for name, (w, h, f) in IMAGES.items():
        png(os.path.join(HERE, "images", name), w, h, f)
        print(f"examples/images/{name} {w}x{h}")
