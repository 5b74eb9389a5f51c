"""Checks a PNG is the expected size and not blank: python3 check_png.py FILE WIDTH HEIGHT.
Decodes it with the standard library only (8-bit RGB/RGBA, as flowlab shot writes)."""
import struct
import sys
import zlib

path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
pos, idat = 8, b""
w = h = None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos : pos + 8])
    body = data[pos + 8 : pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, colour = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert (w, h) == (want_w, want_h), f"{path}: {w}x{h}, expected {want_w}x{want_h}"
raw = zlib.decompress(idat)
# Distinct byte values and the share of bytes that differ from the background: a blank frame
# has one colour.
sample = raw[:: max(1, len(raw) // 200_000)]
distinct = len(set(sample))
assert distinct > 40, f"{path}: looks blank ({distinct} distinct byte values)"
print(f"{path}: {w}x{h}, {distinct} distinct byte values: ok")
