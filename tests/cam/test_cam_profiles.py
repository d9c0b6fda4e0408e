"""Shipped CNC/laser machines, tools and stock: they load and are consistent."""

from __future__ import annotations

import pytest

from fabthread import profiles
from fabthread.errors import ProfileError
from fabthread.gcode.cnc_dialect import cnc_words, line_words

CNC_MATERIALS = ("acrylic", "aluminium_6061", "hdpe", "mdf", "plywood")


def test_tools_have_feeds_for_every_cnc_material(tools) -> None:
    kinds = {t.kind for t in tools.tools}
    assert kinds == {"flat", "ball", "vbit", "drill"}
    assert len({t.number for t in tools.tools}) == len(tools.tools)
    for t in tools.tools:
        assert {f.material for f in t.feeds} == set(CNC_MATERIALS)
        for f in t.feeds:
            assert 0 < f.plunge_mm_min <= f.feed_mm_min and 0 < f.stepdown_mm <= t.flute_length_mm
    # aluminium is cut slower and shallower than plywood with the same tool
    t = tools.get("flat_6mm")
    assert t.feeds_for("aluminium_6061").feed_mm_min < t.feeds_for("plywood").feed_mm_min
    assert tools.get("drill_5mm").feeds_for("aluminium_6061").peck_mm > 0


@pytest.mark.parametrize(
    "machine_id", ["shapeoko4_xl", "linuxcnc_mill", "diode_laser_10w", "co2_laser_60w"]
)
def test_machine_programs_use_only_dialect_words(machine_id: str) -> None:
    m = profiles.load_machine(machine_id)
    d = profiles.load_dialect(m.dialect)
    words = cnc_words(d)
    for text in (m.start_gcode, m.end_gcode):
        for ln in text.splitlines():
            assert set(line_words(ln)) <= words, (machine_id, ln)
    if m.process == "cnc":
        assert m.spindle_max_rpm > m.spindle_min_rpm >= 0 and d.spindle_cw
    else:
        assert m.laser_power_w > 0 and m.power_scale > 0 and d.laser_on.startswith("M4")


def test_dialect_facts() -> None:
    grbl, laser, lcnc = (profiles.load_dialect(n) for n in ("grbl", "grbl_laser", "linuxcnc"))
    assert grbl.tool_change == "" and grbl.peck_drill == "" and grbl.max_line_length == 80
    assert laser.laser_on == "M4 S{power}" and laser.spindle_cw == ""
    assert lcnc.tool_change.startswith("T{tool} M6") and "G83" in lcnc.peck_drill
    assert lcnc.path_blending == "G64 P{tolerance_mm}"
    assert "M6" not in cnc_words(grbl) and "G83" not in cnc_words(grbl)


def test_laser_rows_per_thickness_and_class() -> None:
    ply = profiles.load_stock("plywood_laser")
    assert ply.laser_for(3, 10).passes > ply.laser_for(3, 60).passes
    assert ply.laser_for(6, 60).speed_mm_min < ply.laser_for(3, 60).speed_mm_min
    assert profiles.load_stock("hdpe").laser == ()


def test_bad_laser_row_names_the_file(tmp_path) -> None:
    import shutil

    from fabthread.paths import profiles_dir

    root = tmp_path / "profiles"
    shutil.copytree(profiles_dir(), root, ignore=shutil.ignore_patterns("hubs"))
    path = root / "materials" / "mdf_laser.toml"
    path.write_text(
        path.read_text().replace("thickness_mm = 6\nlaser_w = 40", "thickness_mm = 7\nlaser_w = 40")
    )
    with pytest.raises(ProfileError, match=r"mdf_laser.toml: laser\[3\].thickness_mm=7"):
        profiles.load_stock("mdf_laser", root)
    tool = root / "tools" / "flat_6mm.toml"
    tool.write_text(tool.read_text().replace("[feeds.hdpe]", "[feeds.pla]"))
    with pytest.raises(ProfileError, match="flat_6mm.toml: feeds.pla: unknown cnc material"):
        profiles.load_tool("flat_6mm", root)
