"""The CNC/laser emitter: dialect data decides what is written; the reader reads it back."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gread import read

from fabthread import profiles
from fabthread.cam import cam_part
from fabthread.errors import GcodeError
from fabthread.gcode.cnc_dialect import cnc_words
from fabthread.gcode.cnc_emit import emit_cnc, split_by_tool
from fabthread.model.cam import DrillOp, LaserCutOp, ProfileOp


@pytest.fixture(scope="module")
def idler_job(idler, tools):
    m = profiles.load_machine("linuxcnc_mill")
    ops = [
        ProfileOp("flat_6mm", tab_count=2),
        DrillOp("drill_5mm", holes=((30, 30, 6.0),), peck_mm=2.0),
    ]
    return cam_part(idler, m, profiles.load_stock("aluminium_6061"), tools, ops), m


def test_linuxcnc_tool_change_canned_cycle_and_blending(idler_job, tools):
    tp, m = idler_job
    d = profiles.load_dialect("linuxcnc")
    text = emit_cnc(tp, m, d, tools)
    got = read(text)
    lines = text.splitlines()
    assert any(ln.startswith("T1 M6") for ln in lines)
    assert any(ln.startswith("T6 M6") for ln in lines)
    assert "G83" in got["words"] and "G80" in got["words"] and "G64" in got["words"]
    assert any("T1 flat_6mm" in ln for ln in lines[:10])  # tool list in the header
    first_cut = next(i for i, ln in enumerate(lines) if ln.split()[0] == "G1")
    assert lines.index("G21") < lines.index("G54") < first_cut
    # the spindle runs at the machine's maximum (the tool wants more), not above it
    assert {ln for ln in lines if ln.startswith("M3")} == {"M3 S4000"}
    # reading back: the same positions as the toolpath, the G83 expanded
    xyz = got["moves"][:, :3]
    xyz = xyz[~np.isnan(xyz).any(axis=1)]
    want = tp.xyz_mm
    assert len(xyz) == len(want)
    assert np.abs(xyz - want).max() < 2e-3


def test_grbl_expands_pecks_refuses_tool_change_and_keeps_lines_short(idler_job, tools):
    tp, _ = idler_job
    m = dataclasses.replace(profiles.load_machine("shapeoko4_xl"))
    d = profiles.load_dialect("grbl")
    with pytest.raises(GcodeError, match=r"tool change to T6 \(M6\).*dialect grbl"):
        emit_cnc(tp, m, d, tools)
    parts = split_by_tool(tp)
    assert [int(p.tool[0]) for p in parts] == [1, 6]
    for part in parts:
        text = emit_cnc(part, m, d, tools)
        got = read(text)
        assert set(got["words"]) <= cnc_words(d)
        assert "G83" not in got["words"] and "M6" not in got["words"]
        assert max(len(ln) for ln in text.splitlines()) <= 80
        xyz = got["moves"][:, :3]
        # the end program adds its own parking move after the job
        assert len(xyz) == len(part) + 1
        assert np.abs(xyz[: len(part)] - part.xyz_mm).max() < 2e-3


def test_a_word_the_dialect_lacks_is_refused_by_name(idler_job, tools):
    tp, m = idler_job
    d = profiles.load_dialect("linuxcnc")
    # the machine start program uses G40; a dialect without it must refuse, not write it
    no_g40 = dataclasses.replace(d, extra_words=tuple(w for w in d.extra_words if w != "G40"))
    with pytest.raises(GcodeError, match="word G40 is not supported by dialect linuxcnc"):
        emit_cnc(tp, m, no_g40, tools)
    long_lines = dataclasses.replace(d, max_line_length=40)
    with pytest.raises(GcodeError, match="40-character limit"):
        emit_cnc(tp, m, long_lines, tools)


def test_grbl_laser_m4_dynamic_power(tools):
    import trimesh

    from fabthread.geom.mesh_io import part_from_trimesh

    plate = trimesh.creation.box([40, 30, 3])
    hole = trimesh.creation.cylinder(radius=5, height=5)
    part = part_from_trimesh(plate.difference(hole), "plate")
    m = profiles.load_machine("diode_laser_10w")
    tp = cam_part(part, m, profiles.load_stock("plywood_laser"), tools, [LaserCutOp()])
    d = profiles.load_dialect("grbl_laser")
    text = emit_cnc(tp, m, d, tools)
    lines = text.splitlines()
    assert "M4 S0" in lines and "M3" not in read(text)["words"]
    burn = [ln for ln in lines if ln.split()[0] == "G1"]
    assert burn and all(ln.endswith("S1000") for ln in burn)  # 3 mm ply on 10 W: full power
    with pytest.raises(GcodeError, match="no laser mode"):
        emit_cnc(tp, m, profiles.load_dialect("grbl"), tools)
