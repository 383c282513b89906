#!/usr/bin/env python3
"""Draws Tonus's app icons (committed under crates/tonus-server/assets/icons/) with nothing
but the standard library, so they can be remade anywhere: a white "tone" trace (a calm line,
one spasm spike, calm again) on the app's accent blue.

    python3 scripts/make-icons.py

Shapes are antialiased analytically (coverage from the distance to the shape's edge)."""

import math
import os
import struct
import zlib

ACCENT = (0x0B, 0x57, 0xD0)
WHITE = (0xFF, 0xFF, 0xFF)
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "tonus-server", "assets", "icons")

# The trace in a unit square (0..1), y down.
TRACE = [(0.14, 0.56), (0.36, 0.56), (0.45, 0.26), (0.55, 0.78), (0.64, 0.56), (0.86, 0.56)]


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def rounded_rect_dist(px, py, size, radius):
    """Signed distance to a square of `size` with corner `radius` (negative inside)."""
    h = size / 2
    qx, qy = abs(px - h) - (h - radius), abs(py - h) - (h - radius)
    outside = math.hypot(max(qx, 0), max(qy, 0))
    return outside + min(max(qx, qy), 0) - radius


def draw(size, corner, content_scale):
    """RGBA rows: the blue tile (corners rounded by `corner` × size; 0 = full bleed) with the
    trace scaled by `content_scale` about the centre (maskable icons keep it in the safe
    zone)."""
    width = size * 0.085 * content_scale
    pts = [((0.5 + (x - 0.5) * content_scale) * size, (0.5 + (y - 0.5) * content_scale) * size) for x, y in TRACE]
    rows = []
    for j in range(size):
        row = bytearray()
        py = j + 0.5
        for i in range(size):
            px = i + 0.5
            bg = 1.0 if corner == 0 else max(0.0, min(1.0, 0.5 - rounded_rect_dist(px, py, size, corner * size)))
            d = min(seg_dist(px, py, *pts[k], *pts[k + 1]) for k in range(len(pts) - 1))
            fg = max(0.0, min(1.0, width / 2 - d + 0.5))
            rgb = [round(a * (1 - fg) + b * fg) for a, b in zip(ACCENT, WHITE)]
            row += bytes(rgb) + bytes([round(255 * max(bg, fg if bg > 0 else 0))])
        rows.append(bytes(row))
    return rows


def png(path, size, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r for r in rows)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def svg():
    pts = " ".join(f"{x * 64:.1f},{y * 64:.1f}" for x, y in TRACE)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="#{"".join(f"{c:02x}" for c in ACCENT)}"/>'
        f'<polyline points="{pts}" fill="none" stroke="#fff" stroke-width="5.4" '
        'stroke-linecap="round" stroke-linejoin="round"/></svg>\n'
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    # "any" icons: rounded tile; maskable: full bleed, trace inside the 80 % safe circle.
    for name, size, corner, scale in [
        ("icon-192.png", 192, 0.18, 1.0),
        ("icon-512.png", 512, 0.18, 1.0),
        ("maskable-512.png", 512, 0, 0.72),
        ("apple-touch-icon.png", 180, 0, 0.8),
        ("favicon-32.png", 32, 0.18, 1.0),
    ]:
        png(os.path.join(OUT, name), size, draw(size, corner, scale))
    with open(os.path.join(OUT, "icon.svg"), "w") as f:
        f.write(svg())


if __name__ == "__main__":
    main()
