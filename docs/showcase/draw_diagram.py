"""Draw a small sleep-pressure diagram as a PNG with only zlib and struct."""

# Re-run: python docs/showcase/draw_diagram.py docs/showcase/notes/img/sleep-pressure.png
import itertools
import math
import struct
import sys
import zlib

W, H = 480, 200
BG = (253, 253, 253)
img = [[BG for _ in range(W)] for _ in range(H)]


def put(x, y, c):
    if 0 <= x < W and 0 <= y < H:
        img[y][x] = c


def disc(cx, cy, r, c):
    for y in range(int(cy - r), int(cy + r) + 1):
        for x in range(int(cx - r), int(cx + r) + 1):
            if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                put(x, y, c)


def line(x0, y0, x1, y1, c, w=1.5):
    n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
    for i in range(n + 1):
        t = i / n
        disc(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, w, c)


def rect(x0, y0, x1, y1, c):
    for y in range(y0, y1):
        for x in range(x0, x1):
            put(x, y, c)


L, R, T, B = 40, 460, 20, 170
# night bands (sleep) shaded
for a, b in ((0.62, 1.0),):
    rect(int(L + (R - L) * a / 2), T, int(L + (R - L) * b / 2), B, (226, 232, 246))
    rect(int(L + (R - L) * (a + 1) / 2), T, int(L + (R - L) * (b + 1) / 2), B, (226, 232, 246))
# axes
line(L, B, R, B, (60, 60, 66), 1)
line(L, T, L, B, (60, 60, 66), 1)
for k in range(1, 5):  # hour ticks every 12 h
    x = L + (R - L) * k / 4
    line(x, B, x, B + 5, (60, 60, 66), 0.8)
# arrow heads
line(R, B, R - 8, B - 5, (60, 60, 66), 1)
line(R, B, R - 8, B + 5, (60, 60, 66), 1)
line(L, T, L - 5, T + 8, (60, 60, 66), 1)
line(L, T, L + 5, T + 8, (60, 60, 66), 1)
# adenosine: rises while awake, falls during sleep (two days)
pts = []
for i in range(0, 421):
    d = (i / 420) * 2 % 1.0
    if d < 0.62:
        v = 0.15 + 0.75 * (1 - math.exp(-d / 0.35)) / (1 - math.exp(-0.62 / 0.35))
    else:
        v = 0.15 + 0.75 * math.exp(-(d - 0.62) / 0.12)
    pts.append((L + i, B - v * (B - T - 10)))
for (x0, y0), (x1, y1) in itertools.pairwise(pts):
    line(x0, y0, x1, y1, (10, 88, 202), 1.8)
# circadian alertness: a sine, orange
prev = None
for i in range(0, 421, 2):
    v = 0.5 + 0.32 * math.sin(2 * math.pi * ((i / 420) * 2 - 0.08))
    p = (L + i, B - v * (B - T - 10))
    if prev:
        line(prev[0], prev[1], p[0], p[1], (230, 120, 20), 1.4)
    prev = p
# legend swatches
rect(300, 180, 320, 184, (10, 88, 202))
rect(370, 180, 390, 184, (230, 120, 20))
rect(430, 176, 446, 188, (226, 232, 246))

raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in img)


def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(raw, 9))
    + chunk(b"IEND", b"")
)
with open(sys.argv[1], "wb") as out:
    out.write(png)
