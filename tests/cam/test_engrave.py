"""Laser raster engraving: dithering, scanline coverage, overscan, image decoding, G-code."""

from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np
import pytest
import trimesh
from click.testing import CliRunner
from gread import read

from fabthread import profiles
from fabthread.cam import cam_part
from fabthread.cam.engrave import decode_image, dither_mask, engrave, resample
from fabthread.cam.kernels.dither import floyd_steinberg
from fabthread.errors import ParamError
from fabthread.gcode.cnc_emit import emit_cnc
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.model.cam import EngraveOp, LaserCutOp
from fabthread.model.toolpath import MoveKind

ENGRAVE = int(MoveKind.LASER_ENGRAVE)


def _twin_fs(img: np.ndarray, threshold: float, serpentine: bool) -> np.ndarray:
    """Floyd-Steinberg, written out the textbook way (mirrored on reversed rows)."""
    h, w = img.shape
    work = [list(map(float, row)) for row in img]
    out = np.zeros((h, w), dtype=np.uint8)
    for r in range(h):
        rev = serpentine and r % 2 == 1
        cols = range(w - 1, -1, -1) if rev else range(w)
        d = -1 if rev else 1
        for c in cols:
            new = 1.0 if work[r][c] >= threshold else 0.0
            err = work[r][c] - new
            out[r, c] = int(new)
            for dr, dc, wt in ((0, d, 7), (1, -d, 3), (1, 0, 5), (1, d, 1)):
                rr, cc = r + dr, c + dc
                if rr < h and 0 <= cc < w:
                    work[rr][cc] += err * (wt / 16.0)
    return out


@pytest.mark.parametrize("serpentine", [False, True])
def test_floyd_steinberg_kernel_matches_python_twin(serpentine: bool) -> None:
    rng = np.random.default_rng(11 + serpentine)
    for _ in range(20):
        h, w = rng.integers(1, 30, 2)
        img = rng.uniform(0, 1, (h, w))
        got = floyd_steinberg(img, 0.5, serpentine)
        assert np.array_equal(got, _twin_fs(img, 0.5, serpentine))


def test_dithered_mean_darkness_matches_a_gradient() -> None:
    x = np.linspace(0, 1, 240)
    for img in (np.tile(x, (120, 1)), np.tile(x[:120, None] ** 2, (1, 200))):
        on = dither_mask(img, "floyd-steinberg")
        assert abs(on.mean() - img.mean()) <= 0.02 * img.mean()
        # a plain threshold loses the light tones entirely: that is why we diffuse the error
        assert np.array_equal(dither_mask(img, "threshold"), img >= 0.5)


def _segments(tp):
    """(x0, x1, y, power) of each horizontal engrave move."""
    out = []
    for i in range(1, len(tp)):
        if tp.kind[i] == ENGRAVE:
            a, b = tp.xyz_mm[i - 1], tp.xyz_mm[i]
            assert a[1] == pytest.approx(b[1])  # scanlines are horizontal
            out.append((min(a[0], b[0]), max(a[0], b[0]), b[1], tp.power[i]))
    return out


def test_every_on_pixel_centre_burns_and_no_off_pixel_centre_does() -> None:
    rng = np.random.default_rng(5)
    img = np.clip(rng.uniform(-0.3, 1.3, (37, 53)), 0, 1)
    img[10] = 0.0  # an empty line is skipped
    ox, oy, px = 12.0, 7.5, 0.2
    tp = engrave(img, (ox, oy), px, 0.7, 3000, 2.5)
    on = dither_mask(img)
    segs = _segments(tp)
    h, w = img.shape
    for r in range(h):
        y = oy + (h - 1 - r + 0.5) * px
        for c in range(w):
            x = ox + (c + 0.5) * px
            hit = [p for x0, x1, yy, p in segs if abs(yy - y) < 1e-9 and x0 <= x <= x1]
            burning = any(p > 0 for p in hit)
            assert burning == bool(on[r, c]), (r, c)
            if on[r, c]:
                assert all(p == pytest.approx(0.7) for p in hit if p > 0)
    assert set(np.unique(tp.power[tp.kind == ENGRAVE])) <= {0.0, 0.7}
    assert np.all(tp.feed_mm_min[tp.kind == ENGRAVE] == 3000)


def test_overscan_runs_at_power_zero_beyond_the_burn_and_lines_alternate() -> None:
    img = np.zeros((6, 10))
    img[:, 0] = img[:, -1] = 1.0  # every row burns at both image edges
    img[2, 4:6] = 1.0
    ox, oy, px, os = 30.0, 40.0, 0.5, 4.0
    tp = engrave(img, (ox, oy), px, 1.0, 6000, os, dither="threshold")
    xs = tp.xyz_mm[:, 0]
    assert xs.min() == pytest.approx(ox - os) and xs.max() == pytest.approx(ox + 10 * px + os)
    starts = np.flatnonzero(tp.kind == MoveKind.RAPID)
    assert len(starts) == 6
    dirs = []
    for a, b in zip(starts, [*starts[1:], len(tp)], strict=True):
        line = tp.xyz_mm[a:b, 0]
        power = tp.power[a:b]
        # rapid to the run-up, power-0 run-up, burns, power-0 run-out of overscan length
        assert power[1] == 0 and power[-1] == 0
        assert abs(line[1] - line[0]) == pytest.approx(os)
        assert abs(line[-1] - line[-2]) == pytest.approx(os)
        burn = line[1:][power[1:] > 0]
        lo_burn = min(burn.min(), line[1])
        assert {round(line[0], 6), round(line[-1], 6)} == {round(ox - os, 6), round(ox + 5 + os, 6)}
        assert lo_burn >= ox - 1e-9
        dirs.append(np.sign(line[-1] - line[0]))
    assert all(d1 == -d2 for d1, d2 in zip(dirs, dirs[1:], strict=False))
    # the run-up and run-out never burn
    assert np.all(tp.power[tp.kind == MoveKind.RAPID] == 0)


def test_bad_inputs_name_the_parameter() -> None:
    with pytest.raises(ParamError, match="within 0..1"):
        engrave(np.full((3, 3), 2.0), (0, 0), 0.1, 0.5, 1000, 1)
    with pytest.raises(ParamError, match="power=1.5"):
        engrave(np.ones((3, 3)), (0, 0), 0.1, 1.5, 1000, 1)
    with pytest.raises(ParamError, match="dither='halftone'.*floyd-steinberg"):
        engrave(np.ones((3, 3)), (0, 0), 0.1, 0.5, 1000, 1, dither="halftone")


# ---------------------------------------------------------------------------------------------
# images


def _png(pixels: np.ndarray, color: int, filters: tuple[int, ...] = (0, 1, 2, 3, 4)) -> bytes:
    """A PNG written the plain way, cycling through the row filters."""
    h, w = pixels.shape[:2]
    data = pixels.reshape(h, -1).astype(np.int64)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = bytearray()
    prev = np.zeros(data.shape[1], dtype=np.int64)
    for r in range(h):
        f = filters[r % len(filters)]
        cur = data[r]
        left = np.concatenate([np.zeros(bpp, np.int64), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        if f == 0:
            pred = np.zeros_like(cur)
        elif f == 1:
            pred = left
        elif f == 2:
            pred = prev
        elif f == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        raw += bytes([f]) + bytes(((cur - pred) % 256).astype(np.uint8))
        prev = cur

    def chunk(t: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def test_png_decoding_undoes_every_filter() -> None:
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (9, 13), dtype=np.uint8)
    assert np.allclose(decode_image(_png(gray, 0)), 1 - gray / 255.0)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    lum = rgb @ np.array([0.299, 0.587, 0.114])
    assert np.allclose(decode_image(_png(rgb, 2)), 1 - lum / 255.0)
    rgba = rng.integers(0, 256, (6, 8, 4), dtype=np.uint8)
    want = (1 - (rgba[..., :3] @ np.array([0.299, 0.587, 0.114])) / 255.0) * rgba[..., 3] / 255
    assert np.allclose(decode_image(_png(rgba, 6)), want)


def test_pgm_and_npy_and_unknown_formats() -> None:
    g = np.array([[0, 128, 255], [255, 0, 64]], dtype=np.uint8)
    p5 = b"P5\n# made by hand\n3 2\n255\n" + g.tobytes()
    p2 = b"P2 3 2 255\n0 128 255\n255 0 64\n"
    assert np.allclose(decode_image(p5), 1 - g / 255.0)
    assert np.allclose(decode_image(p2), 1 - g / 255.0)
    buf = io.BytesIO()
    np.save(buf, np.array([[0.0, 0.25], [1.0, 0.5]]))
    assert decode_image(buf.getvalue())[1, 0] == 1.0
    with pytest.raises(ParamError, match="PNG, PGM"):
        decode_image(b"GIF89a....", "logo.gif")


def test_resample_keeps_aspect_and_tone() -> None:
    img = np.tile(np.linspace(0, 1, 300), (150, 1))
    small = resample(img, 100)
    assert small.shape == (50, 100)
    assert small.mean() == pytest.approx(img.mean(), abs=1e-9)


# ---------------------------------------------------------------------------------------------
# job and program


@pytest.fixture(scope="module")
def plate():
    return part_from_trimesh(trimesh.creation.box([60, 40, 3]), "plate")


def test_engrave_then_cut_is_a_grbl_laser_program_inside_the_work_area(plate, tools) -> None:
    m = profiles.load_machine("diode_laser_10w")
    mat = profiles.load_stock("plywood_laser")
    img = np.tile(np.linspace(0, 1, 200), (80, 1))
    op = EngraveOp(img, pixel_mm=0.2, width_mm=30.0)
    tp = cam_part(plate, m, mat, tools, [op, LaserCutOp()])
    kinds = tp.kind.tolist()
    # engraving comes first, then the cut frees the piece
    assert kinds.index(int(MoveKind.LASER_CUT)) > max(
        i for i, k in enumerate(kinds) if k == ENGRAVE
    )
    setting = mat.laser_for(3.0, m.laser_power_w)
    burn = (tp.kind == ENGRAVE) & (tp.power > 0)
    assert np.all(tp.power[burn] == setting.engrave_power)
    assert np.all(tp.feed_mm_min[tp.kind == ENGRAVE] == setting.engrave_speed_mm_min)
    # centred on the part, 30 mm wide
    ex = tp.xyz_mm[burn, 0]
    part_cx = 0.5 * (
        tp.xyz_mm[tp.kind == MoveKind.LASER_CUT, 0].min()
        + tp.xyz_mm[tp.kind == MoveKind.LASER_CUT, 0].max()
    )
    assert ex.max() <= part_cx + 15 + 1e-6 and ex.max() > part_cx + 14
    text = emit_cnc(tp, m, profiles.load_dialect(m.dialect))
    got = read(text)
    assert "M4" in got["words"] and "M3" not in got["words"]
    xy = got["moves"][:, :2]
    assert np.all(xy >= 0) and np.all(xy[:, 0] <= m.size_x_mm) and np.all(xy[:, 1] <= m.size_y_mm)
    s = np.array(got["s"])
    assert s.max() == round(setting.engrave_power * m.power_scale) or s.max() == round(
        setting.power * m.power_scale
    )
    assert (s == 0).any()  # off runs and overscan are S0 feed moves


def test_engrave_is_refused_on_a_mill(tools) -> None:
    part = part_from_trimesh(trimesh.creation.box([20, 20, 5]), "b")
    m = profiles.load_machine("shapeoko4_xl")
    with pytest.raises(ParamError, match="engrave is not a cnc operation"):
        cam_part(part, m, profiles.load_stock("hdpe"), tools, [EngraveOp(np.ones((2, 2)))])


def test_cli_engraves_a_png(tmp_path) -> None:
    from fabthread.cli.cam_cmd import cam
    from fabthread.cli.main import FabGroup

    mesh = tmp_path / "plate.stl"
    trimesh.creation.box([60, 40, 3]).export(mesh)
    png = tmp_path / "logo.png"
    g = np.tile(np.linspace(255, 0, 64).astype(np.uint8), (32, 1))
    png.write_bytes(_png(g, 0))
    out = tmp_path / "plate.gcode"
    group = FabGroup("fabthread")
    group.add_command(cam)
    args = ["cam", str(mesh), "-m", "diode_laser_10w", "-M", "plywood_laser", "--op", "engrave"]
    args += ["--image", str(png), "--width-mm", "20", "--dpi", "254", "-o", str(out), "--json"]
    res = CliRunner().invoke(group, args, obj={})
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["moves"] > 100
    assert "M4" in read(out.read_text())["words"]
    res = CliRunner().invoke(group, args[:8] + ["-o", str(out)], obj={})
    assert res.exit_code == 2 and "--image" in res.output
