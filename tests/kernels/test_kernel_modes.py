"""AOT and JIT kernels (fabthread.kernels.jit): argument checking, fallback, no numba import."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fabthread.kernels import jit
from fabthread.kernels.build import AOT_MODULES

SECTION = "fabthread.slice.kernels.section"
BUILT = all(jit.aot_fresh(m) for m in AOT_MODULES)


def test_converter_casts_dtype_and_keeps_matching_arrays() -> None:
    conv = jit._converter("f8[:, :]")
    a = np.zeros((2, 2))
    assert conv(a) is a  # in-place outputs keep working
    b = conv(np.ones((2, 2), dtype=np.int64))
    assert b.dtype == np.float64 and b.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(TypeError, match="2-d float64"):
        conv(np.zeros(3))
    assert jit._converter("i8")(3.0) == 3 and isinstance(jit._converter("i8")(3.0), int)
    assert jit._converter("b1")(1) is True


def test_bad_signature_is_refused() -> None:
    with pytest.raises(ValueError, match="kernel argument type"):
        jit._converter("float[:]")


def test_split_args_keeps_dims_together() -> None:
    assert jit._split_args("f8[:, :], i8, u1[:]") == ["f8[:, :]", "i8", "u1[:]"]


def test_export_symbol_is_unique_per_module() -> None:
    names = {jit.export_symbol(m, "k") for m in AOT_MODULES}
    assert len(names) == len(AOT_MODULES)


@pytest.mark.skipif(not BUILT, reason="AOT kernels not built (make kernels)")
def test_aot_kernel_converts_arguments_instead_of_misreading_them() -> None:
    from fabthread.slice.kernels.hatch import scanline_segments

    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]])  # int64: converted, not misread
    seg = scanline_segments(square, np.array([0, 4]), np.array([5.0]))
    assert seg.tolist() == [[0.0, 5.0, 10.0, 5.0]]


@pytest.mark.skipif(not BUILT, reason="AOT kernels not built (make kernels)")
def test_slicing_path_with_aot_kernels_does_not_import_numba() -> None:
    code = (
        "import sys, fabthread.pipeline, fabthread.slice.slicer, fabthread.gcode.emit, "
        "fabthread.gcode.reader, fabthread.gcode.estimate, fabthread.gcode.thumbnail\n"
        "print('numba' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != jit.MODE_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_jit_mode_is_forced_by_the_environment() -> None:
    code = f"from fabthread.kernels import jit\nprint(jit.mode({SECTION!r}))"
    env = dict(os.environ, **{jit.MODE_ENV: "jit"})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "jit", out.stderr


@pytest.mark.slow
def test_kernel_twins_pass_under_jit_too() -> None:
    """The kernels' twin tests, run with JIT kernels (the default run uses the AOT build)."""
    env = dict(os.environ, **{jit.MODE_ENV: "jit"})
    tests = [
        "tests/slice",
        "tests/gcode/test_kernels.py",
        "tests/gcode/test_wipe.py",
        "tests/geom/test_components_kernel.py",
        "tests/geom/test_mesh_read.py",
        "tests/geom/test_medial.py",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", *tests],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stdout[-3000:]


def test_every_kernel_module_is_built_ahead_of_time() -> None:
    # a kernel module missing from AOT_MODULES runs JIT: numba imported (0.6 s) in every
    # process that uses it, the slicer's workers included
    from pathlib import Path

    root = Path(jit.PACKAGE_ROOT)
    found = {
        "fabthread." + ".".join(p.relative_to(root).with_suffix("").parts)
        for p in root.glob("*/kernels/*.py")
        if "@kernel(" in p.read_text(encoding="utf-8")
    }
    assert found and found <= set(AOT_MODULES), sorted(found - set(AOT_MODULES))


def test_kernel_groups_are_built_modules() -> None:
    for group in jit.KERNEL_GROUPS:
        assert set(group) <= set(AOT_MODULES)


@pytest.mark.skipif(not BUILT, reason="AOT kernels not built (make kernels)")
def test_a_stale_member_makes_its_whole_group_jit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offset kernels compile in the ring helpers: when either source is edited after
    the build, both modules run JIT (an AOT offset kernel would hold the old helpers; a JIT
    one needs JIT helpers)."""
    helpers, users = jit.KERNEL_GROUPS[0][:2]
    fresh = jit.aot_fresh.__wrapped__  # not the cached verdict
    assert fresh(helpers) and fresh(users)
    real = jit.source_sha256
    monkeypatch.setattr(jit, "source_sha256", lambda m: "edited" if m == users else real(m))
    assert not fresh(helpers) and not fresh(users)
    assert fresh(SECTION)  # other modules stay AOT


@pytest.mark.skipif(not BUILT, reason="AOT kernels not built (make kernels)")
def test_aot_calls_of_every_arity_check_their_arguments() -> None:
    from fabthread.geom.kernels.rings import ring_points  # one argument: its own call
    from fabthread.slice.kernels.hatch import scanline_segments  # three

    square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]  # a list: converted
    status, pts, starts = ring_points(square)
    assert status == 0 and pts.tolist() == square[:4] and starts.tolist() == [0, 4]
    with pytest.raises(TypeError):
        ring_points(np.zeros(3))  # 1-d where 2-d is declared
    with pytest.raises(TypeError):
        scanline_segments(np.zeros((4, 2)), np.array([0, 4]))  # an argument short
