"""Laser raster engraving: a darkness image -> dithered on/off pixels -> scanline moves.

Lines run along X, one per pixel row, bottom row first, alternating direction (serpentine).
Each line is trimmed to its first and last burning pixel and extended by the overscan on both
sides, so the head is already at engraving speed when the first pixel burns and still at it
after the last one (the burn of a dynamic-power laser follows the actual speed; burning while
accelerating leaves darker line ends)::

    G0 to (start - overscan, y)            rapid; GRBL laser mode: beam off on G0
    G1 to start            S0              overscan in, accelerating
    G1 to end of run 1     S=power_max     "on" run
    G1 to end of run 2     S0              "off" run: same G1 at the same feed
    ...
    G1 to end + overscan   S0              overscan out, decelerating

Off pixels inside a line are G1 moves at power 0 rather than G0 jumps: GRBL 1.1 in laser mode
($32=1, M4) changes S between G1 blocks without stopping, so the head keeps a constant speed
across the line, while a G0 in between is a different motion mode at a different feed and
makes the planner slow down and speed up inside the image. Consecutive on or off pixels are
merged into one move (fewer, longer blocks: the serial link and the planner buffer are the
limit of raster engraving on GRBL).

Image decoding (``decode_image``) is pure bytes -> array for PNG (8-bit gray, gray+alpha, RGB,
RGBA, palette; not interlaced), PGM (P2/P5) and .npy (float darkness 0..1); reading the file
is the caller's job.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from fabthread.cam.kernels.dither import floyd_steinberg
from fabthread.cam.moves import MoveBuilder
from fabthread.cam.setup import rapid_mm_min
from fabthread.errors import FitError, ParamError
from fabthread.model.cam import DITHERS, EngraveOp, LaserSetting
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile
from fabthread.model.toolpath import Toolpath

#: Overscan from the acceleration distance v^2 / 2a times this margin, at least MIN_OVERSCAN_MM.
OVERSCAN_MARGIN = 1.5
MIN_OVERSCAN_MM = 1.0


# ---------------------------------------------------------------------------------------------
# images


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Darkness float64 (h, w) 0..1 (1: black/burn, row 0 at the top) of a PNG, PGM or .npy
    file's bytes; ParamError naming ``name`` and the supported formats otherwise."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return decode_png(data, name)
    if data[:2] in (b"P2", b"P5"):
        return decode_pgm(data, name)
    if data[:6] == b"\x93NUMPY":
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as exc:
            raise ParamError(f"{name}: not a readable .npy array ({exc})") from exc
        arr = np.asarray(arr, dtype=np.float64)
        if arr.ndim != 2 or arr.size == 0 or not np.all(np.isfinite(arr)):
            raise ParamError(f"{name}: .npy must be a finite 2D array (h, w); got {arr.shape}")
        if arr.min() < 0.0 or arr.max() > 1.0:
            raise ParamError(
                f"{name}: .npy darkness must be within 0..1; got {arr.min():g}..{arr.max():g}"
            )
        return arr
    raise ParamError(f"{name}: unknown image format; supported: PNG, PGM (P2/P5), .npy")


def decode_pgm(data: bytes, name: str = "image") -> np.ndarray:
    """Darkness (h, w) of a binary (P5, 8 or 16 bit) or ASCII (P2) PGM."""
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            while pos < len(data) and data[pos : pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ParamError(f"{name}: truncated PGM header")
        tokens.append(data[start:pos])
    try:
        w, h, maxval = (int(t) for t in tokens[1:])
    except ValueError as exc:
        raise ParamError(f"{name}: bad PGM header {tokens!r}") from exc
    if w <= 0 or h <= 0 or not 0 < maxval < 65536:
        raise ParamError(f"{name}: PGM size {w}x{h} and maxval {maxval} must be positive, <65536")
    if tokens[0] == b"P5":
        body = data[pos + 1 :]  # exactly one whitespace byte after maxval
        dtype = np.dtype(">u2") if maxval > 255 else np.dtype(np.uint8)
        if len(body) < w * h * dtype.itemsize:
            raise ParamError(f"{name}: PGM pixel data is shorter than {w}x{h}")
        gray = np.frombuffer(body, dtype=dtype, count=w * h).astype(np.float64)
    else:
        values = data[pos:].split()
        if len(values) < w * h:
            raise ParamError(f"{name}: PGM has {len(values)} values, needs {w * h}")
        gray = np.array([int(v) for v in values[: w * h]], dtype=np.float64)
    return 1.0 - np.clip(gray.reshape(h, w) / maxval, 0.0, 1.0)


_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _unfilter(rows: np.ndarray, bpp: int, name: str) -> np.ndarray:
    """Undo PNG per-row filters: ``rows`` uint8 (h, 1 + stride) -> uint8 (h, stride)."""
    h, stride = rows.shape[0], rows.shape[1] - 1
    out = np.zeros((h, stride), dtype=np.int64)
    prev = np.zeros(stride, dtype=np.int64)
    for r in range(h):
        ftype = int(rows[r, 0])
        line = rows[r, 1:].astype(np.int64)
        if ftype == 0:
            cur = line
        elif ftype == 1:  # Sub: running sum per channel
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) % 256
        elif ftype == 2:  # Up
            cur = (line + prev) % 256
        elif ftype in (3, 4):  # Average, Paeth: sequential along the row, vector over channels
            cur = line.copy()
            zero = np.zeros(bpp, dtype=np.int64)
            for i in range(0, stride, bpp):
                a = cur[i - bpp : i] if i else zero
                b = prev[i : i + bpp]
                if ftype == 3:
                    pred = (a + b) // 2
                else:
                    c = prev[i - bpp : i] if i else zero
                    p = a + b - c
                    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
                    pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
                cur[i : i + bpp] = (line[i : i + bpp] + pred) % 256
        else:
            raise ParamError(f"{name}: PNG row {r} has filter type {ftype}; allowed 0..4")
        out[r] = cur
        prev = cur
    return out.astype(np.uint8)


def decode_png(data: bytes, name: str = "image") -> np.ndarray:
    """Darkness (h, w) of an 8-bit, non-interlaced PNG: gray, gray+alpha, RGB, RGBA or palette.
    Luminance by Rec. 601 weights; transparent pixels count as white (not burned)."""
    pos = 8
    ihdr = None
    plte = b""
    idat: list[bytes] = []
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            plte = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if ihdr is None:
        raise ParamError(f"{name}: PNG without IHDR")
    w, h, depth, color, _, _, interlace = ihdr
    if depth != 8 or color not in _CHANNELS or interlace != 0:
        raise ParamError(
            f"{name}: PNG bit depth {depth}, color type {color}, interlace {interlace} is not "
            "supported; allowed: 8-bit gray, gray+alpha, RGB, RGBA or palette, not interlaced"
        )
    ch = _CHANNELS[color]
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ParamError(f"{name}: corrupt PNG image data ({exc})") from exc
    if len(raw) < h * (w * ch + 1):
        raise ParamError(f"{name}: PNG image data is shorter than {w}x{h}")
    rows = np.frombuffer(raw, dtype=np.uint8, count=h * (w * ch + 1)).reshape(h, w * ch + 1)
    px = _unfilter(rows, ch, name).reshape(h, w, ch).astype(np.float64)
    alpha = np.ones((h, w))
    if color == 3:
        pal = np.frombuffer(plte, dtype=np.uint8).reshape(-1, 3).astype(np.float64)
        idx = px[..., 0].astype(np.int64)
        if not len(pal) or idx.max() >= len(pal):
            raise ParamError(f"{name}: PNG palette index beyond the {len(pal)}-colour palette")
        px = pal[idx]
    if px.shape[2] >= 3:
        gray = px[..., 0] * 0.299 + px[..., 1] * 0.587 + px[..., 2] * 0.114
        if px.shape[2] == 4:
            alpha = px[..., 3] / 255.0
    else:
        gray = px[..., 0]
        if ch == 2:
            alpha = px[..., 1] / 255.0
    return np.clip((1.0 - gray / 255.0) * alpha, 0.0, 1.0)


def _resample_axis(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Box-filter ``a`` to ``n`` samples along ``axis`` (exact area average via the running
    sum, for both shrinking and growing)."""
    a = np.moveaxis(a, axis, 0)
    m = a.shape[0]
    cs = np.concatenate([np.zeros((1,) + a.shape[1:]), np.cumsum(a, axis=0)])
    edges = np.linspace(0.0, m, n + 1)
    i0 = np.minimum(np.floor(edges).astype(np.int64), m - 1)
    frac = (edges - i0).reshape((-1,) + (1,) * (a.ndim - 1))
    s = cs[i0] + frac * (cs[i0 + 1] - cs[i0])
    out = (s[1:] - s[:-1]) / (m / n)
    return np.moveaxis(out, 0, axis)


def resample(image: np.ndarray, width_px: int) -> np.ndarray:
    """``image`` (h, w) area-averaged to ``width_px`` columns, rows scaled to keep the aspect."""
    h, w = image.shape
    height_px = max(1, round(h * width_px / w))
    out = _resample_axis(_resample_axis(np.asarray(image, np.float64), width_px, 1), height_px, 0)
    return np.clip(out, 0.0, 1.0)


def dither_mask(image: np.ndarray, method: str = "floyd-steinberg") -> np.ndarray:
    """bool (h, w): which pixels burn, for darkness ``image`` (h, w) 0..1."""
    img = np.ascontiguousarray(image, dtype=np.float64)
    if method == "floyd-steinberg":
        return floyd_steinberg(img, 0.5, True).astype(bool)
    if method == "threshold":
        return img >= 0.5
    raise ParamError(f"dither='{method}' is unknown; allowed: {', '.join(DITHERS)}")


# ---------------------------------------------------------------------------------------------
# moves


def _check(
    image: np.ndarray, pixel_mm: float, power_max: float, speed: float, overscan: float
) -> np.ndarray:
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or img.size == 0:
        raise ParamError(f"engrave image must be a non-empty 2D array (h, w); got {img.shape}")
    if not np.all(np.isfinite(img)) or img.min() < 0.0 or img.max() > 1.0:
        raise ParamError(
            f"engrave image darkness must be within 0..1; got {np.nanmin(img):g}.."
            f"{np.nanmax(img):g}"
        )
    for label, v, ok, allowed in (
        ("pixel_mm", pixel_mm, pixel_mm > 0, "> 0"),
        ("power", power_max, 0 < power_max <= 1, "within (0, 1]"),
        ("speed_mm_min", speed, speed > 0, "> 0"),
        ("overscan_mm", overscan, overscan >= 0, ">= 0"),
    ):
        if not ok:
            raise ParamError(f"engrave {label}={v:g} is not allowed; must be {allowed}")
    return img


def engrave_into(
    mb: MoveBuilder,
    on: np.ndarray,
    origin_xy_mm: tuple[float, float],
    pixel_mm: float,
    power_max: float,
    speed_mm_min: float,
    overscan_mm: float,
    z_mm: float,
) -> int:
    """Append the scanlines of the burn mask ``on`` bool (h, w) (row 0 at the top) to ``mb``;
    returns the number of lines written (rows without a burning pixel are skipped).

    Pixel (r, c) covers x in ox + [c, c + 1) * pixel_mm, y in oy + [h - 1 - r, h - r) *
    pixel_mm; its line runs through the pixel centres' y."""
    h, w = on.shape
    ox, oy = float(origin_xy_mm[0]), float(origin_xy_mm[1])
    lines = 0
    for k in range(h):
        row = np.asarray(on[h - 1 - k], dtype=bool)
        idx = np.flatnonzero(row)
        if not idx.size:
            continue
        first, last = int(idx[0]), int(idx[-1]) + 1
        seg = row[first:last].astype(np.int8)
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(seg)) + 1, [last - first]]) + first
        states = row[cuts[:-1]]
        edges = ox + cuts * pixel_mm
        y = oy + (k + 0.5) * pixel_mm
        if lines % 2 == 0:
            x_in, x_out = edges[0] - overscan_mm, edges[-1] + overscan_mm
            run_ends, run_states = edges[1:], states
        else:
            x_in, x_out = edges[-1] + overscan_mm, edges[0] - overscan_mm
            run_ends, run_states = edges[:-1][::-1], states[::-1]
        mb.rapid(x_in, y, z_mm)
        mb.set(power=0.0)
        mb.laser(edges[0] if lines % 2 == 0 else edges[-1], y, z_mm, speed_mm_min, engrave=True)
        for x, burn in zip(run_ends, run_states, strict=True):
            mb.set(power=power_max if burn else 0.0)
            mb.laser(x, y, z_mm, speed_mm_min, engrave=True)
        mb.set(power=0.0)
        mb.laser(x_out, y, z_mm, speed_mm_min, engrave=True)
        lines += 1
    return lines


def engrave(
    image: np.ndarray,
    origin_xy_mm: tuple[float, float],
    pixel_mm: float,
    power_max: float,
    speed_mm_min: float,
    overscan_mm: float,
    *,
    dither: str = "floyd-steinberg",
    z_mm: float = 0.0,
    rapid_mm_min: float = 6000.0,
) -> Toolpath:
    """The laser toolpath engraving darkness ``image`` (h, w) 0..1 (row 0 at the top) with its
    lower-left corner at ``origin_xy_mm``, ``pixel_mm`` square pixels (= line spacing), burning
    at ``power_max`` (0..1] and ``speed_mm_min``, ``overscan_mm`` of power-0 run-up and
    run-out on both ends of every line, at height ``z_mm``. See the module doc for the moves.
    """
    img = _check(image, pixel_mm, power_max, speed_mm_min, overscan_mm)
    mb = MoveBuilder("laser", rapid_mm_min)
    mb.set(layer=0, layer_z=z_mm)
    on = dither_mask(img, dither)
    engrave_into(mb, on, origin_xy_mm, pixel_mm, power_max, speed_mm_min, overscan_mm, z_mm)
    return mb.build()


def auto_overscan_mm(speed_mm_min: float, machine: MachineProfile) -> float:
    """Run-up for the machine to reach ``speed_mm_min`` along X: v^2 / 2a with a margin."""
    v = speed_mm_min / 60.0
    a = machine.limits.max_accel_x_mm_s2
    if a <= 0:
        return 5.0
    return max(MIN_OVERSCAN_MM, round(OVERSCAN_MARGIN * v * v / (2.0 * a), 1))


def engrave_part(
    part: Part, op: EngraveOp, setting: LaserSetting, mb: MoveBuilder, machine: MachineProfile
) -> int:
    """Append ``op`` engraved on the top of ``part`` (placed in work coordinates) to ``mb``;
    returns the number of scanlines. FitError when image plus overscan leaves the work area."""
    img = op.image
    if op.width_mm > 0:
        if op.pixel_mm <= 0:
            raise ParamError(f"engrave pixel_mm={op.pixel_mm:g} is not allowed; must be > 0")
        img = resample(img, max(1, round(op.width_mm / op.pixel_mm)))
    power = setting.engrave_power if op.power < 0 else op.power
    speed = setting.engrave_speed_mm_min if op.speed_mm_min < 0 else op.speed_mm_min
    speed = min(speed, rapid_mm_min(machine))
    overscan = auto_overscan_mm(speed, machine) if op.overscan_mm < 0 else op.overscan_mm
    img = _check(img, op.pixel_mm, power, speed, overscan)
    lo, hi = part.bounds_mm
    h, w = img.shape
    size = np.array([w, h]) * op.pixel_mm
    if op.origin_xy_mm is None:
        origin = 0.5 * (lo[:2] + hi[:2]) - size / 2
    else:
        origin = lo[:2] + np.asarray(op.origin_xy_mm, dtype=np.float64)
    x0, x1 = origin[0] - overscan, origin[0] + size[0] + overscan
    y0, y1 = origin[1], origin[1] + size[1]
    for axis, a, b, s in (("x", x0, x1, machine.size_x_mm), ("y", y0, y1, machine.size_y_mm)):
        if a < -1e-6 or b > s + 1e-6:
            raise FitError(
                f"engraving (with {overscan:g} mm overscan) spans {axis}={a:.1f}..{b:.1f} mm, "
                f"outside the work area 0..{s:g} mm of machine {machine.id}; make it smaller "
                "(width_mm, pixel_mm) or move it (origin_xy_mm)"
            )
    z = float(hi[2])
    mb.set(layer=0, layer_z=z)
    on = dither_mask(img, op.dither)
    return engrave_into(
        mb, on, (float(origin[0]), float(origin[1])), op.pixel_mm, power, speed, overscan, z
    )
