"""Thumbnails: a small isometric picture of the part, embedded in the G-code as PNG.

Printers with a screen (Prusa MK4/XL/MINI, Klipper front ends via Moonraker, Duet Web
Control) show a preview when the file has blocks in PrusaSlicer's comment format::

    ; thumbnail begin 220x124 5432       width x height, then the length of the base64 text
    ; iVBORw0KGgoAAAANSUhEUgAAANwAAAB8CAYAAAA...     base64 of a PNG, at most 78 per line
    ; thumbnail end

The emitter has only the toolpath, so the picture is drawn from it: every extruding move is
projected isometrically (seen from the front right, 35° above the bed), drawn as a line about
one extrusion wide into a depth buffer, and shaded by height (lower layers darker) in the
order's color. The background is transparent. PNG encoding uses zlib only (no imaging
library); the same toolpath gives the same bytes.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Sequence

import numpy as np

from fabthread.gcode.kernels.raster import draw_segments
from fabthread.model.toolpath import EXTRUDING, Toolpath

#: Camera: azimuth from the front (-Y) towards +X, elevation above the bed (degrees).
AZIMUTH_DEG = 30.0
ELEVATION_DEG = 35.0
#: base64 characters per comment line (PrusaSlicer's limit, which firmware expects).
LINE_CHARS = 78
#: Extrusion width drawn (mm); lines are at least one pixel wide.
LINE_WIDTH_MM = 0.45


def thumbnail_blocks(tp: Toolpath, sizes: Sequence[tuple[int, int]], color_hex: str) -> str:
    """The thumbnail comment blocks for every (width, height) in ``sizes`` ("" for none)."""
    out: list[str] = []
    view = _View.of(tp)
    for width, height in sizes:
        png = encode_png(view.render(width, height, color_hex))
        text = base64.b64encode(png).decode("ascii")
        out.append(";")
        out.append(f"; thumbnail begin {width}x{height} {len(text)}")
        out += ["; " + text[k : k + LINE_CHARS] for k in range(0, len(text), LINE_CHARS)]
        out.append("; thumbnail end")
    if out:
        out.append(";")
    return "\n".join(out)


def render(tp: Toolpath, width: int, height: int, color_hex: str) -> np.ndarray:
    """uint8 (height, width, 4) RGBA picture of the toolpath's extrusions (transparent where
    nothing is)."""
    return _View.of(tp).render(width, height, color_hex)


class _View:
    """The extruding segments seen by the camera, once for all sizes: screen coordinates
    ``u``, ``v`` (mm, v up) and ``depth`` (mm, larger is nearer) of their 2m end points
    (starts, then ends) and the shade of each segment."""

    def __init__(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray, shade: np.ndarray):
        self.u, self.v, self.depth, self.shade = u, v, depth, shade

    @classmethod
    def of(cls, tp: Toolpath) -> _View:
        seg = _segments(tp)
        if seg is None:
            return cls(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
        a, b = seg
        az, el = math.radians(AZIMUTH_DEG), math.radians(ELEVATION_DEG)
        right = np.array([math.cos(az), math.sin(az), 0.0])
        towards = np.array(
            [math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)]
        )  # from the part to the camera
        up = np.cross(towards, right)
        pts = np.concatenate([a, b])
        z = pts[:, 2]
        z_lo, z_span = float(z.min()), float(np.ptp(z))
        n = len(a)
        mid_z = 0.5 * (z[:n] + z[n:])
        shade = 0.45 + 0.55 * ((mid_z - z_lo) / z_span if z_span > 0 else np.ones(n))
        return cls(pts @ right, pts @ up, pts @ towards, shade)

    def render(self, width: int, height: int, color_hex: str) -> np.ndarray:
        img = np.zeros((height, width, 4), dtype=np.uint8)
        u, v, d, n = self.u, self.v, self.depth, len(self.shade)
        if n == 0:
            return img
        margin = max(1.0, 0.04 * min(width, height))
        span_u, span_v = float(np.ptp(u)), float(np.ptp(v))
        scale = min(
            (width - 1 - 2 * margin) / span_u if span_u > 0 else math.inf,
            (height - 1 - 2 * margin) / span_v if span_v > 0 else math.inf,
        )
        if not math.isfinite(scale) or scale <= 0:
            scale = 1.0
        cu = 0.5 * (width - 1) - scale * 0.5 * (u.min() + u.max())
        cv = 0.5 * (height - 1) + scale * 0.5 * (v.min() + v.max())
        px, py = cu + scale * u, cv - scale * v  # image y grows downwards
        radius = min(int(LINE_WIDTH_MM * scale / 2.0), 3)
        depth, value = draw_segments(
            px[:n], py[:n], d[:n], px[n:], py[n:], d[n:], self.shade, width, height, radius
        )
        drawn = np.isfinite(depth)
        rgb = np.array([int(color_hex[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.float64)
        # dark filament is drawn no darker than a dark grey, so the layers stay visible
        base = np.maximum(rgb, 60.0)
        img[..., :3] = np.clip(np.rint(value[..., None] * base), 0, 255).astype(np.uint8)
        img[..., 3] = np.where(drawn, 255, 0).astype(np.uint8)
        img[~drawn, :3] = 0
        return img


def _segments(tp: Toolpath) -> tuple[np.ndarray, np.ndarray] | None:
    """(start (m, 3), end (m, 3)) of the extruding moves; None when there are none."""
    if len(tp) < 2:
        return None
    ext = EXTRUDING[tp.kind[1:]] & (tp.extrude_mm3[1:] > 0)
    idx = np.flatnonzero(ext) + 1
    if len(idx) == 0:
        return None
    return np.ascontiguousarray(tp.xyz_mm[idx - 1]), np.ascontiguousarray(tp.xyz_mm[idx])


def encode_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (height, width, 4) image: 8-bit RGBA, no filtering, zlib level 9."""
    height, width = rgba.shape[:2]
    raw = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # filter byte 0 per row
    raw[:, 1:] = rgba.reshape(height, 4 * width)

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def decode_png(data: bytes) -> np.ndarray:
    """uint8 (height, width, 4) from PNG bytes written by ``encode_png`` (8-bit RGBA,
    filter 0 only): for tests and ``fabthread gcode thumbnails``."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if (depth, ctype) != (8, 6):
                raise ValueError(f"PNG depth {depth} color type {ctype}; expected 8-bit RGBA")
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + 4 * width)
    if raw[:, 0].any():
        raise ValueError("PNG rows use filters; only filter 0 is supported")
    return raw[:, 1:].reshape(height, width, 4).copy()
