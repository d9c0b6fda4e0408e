"""The profiles shipped in profiles/: every one loads and is consistent with its dialect."""

from __future__ import annotations

import re

import pytest

from fabthread import profiles
from fabthread.model.profiles import MachineProfile
from fabthread.paths import profiles_dir
from fabthread.profiles.dialects import COMMAND_FIELDS, command_fields, dialect_words
from fabthread.templates import TEMPLATE_FIELDS, render_template

MACHINES = ("duet3_corexy", "prusa_mk4", "prusa_xl_2t", "voron24_350")
MATERIALS = ("petg", "pla")
CNC_MACHINES = ("linuxcnc_mill", "shapeoko4_xl")
LASER_MACHINES = ("co2_laser_60w", "diode_laser_10w")
CNC_MATERIALS = ("acrylic", "aluminium_6061", "hdpe", "mdf", "plywood")
LASER_MATERIALS = ("acrylic_laser", "mdf_laser", "plywood_laser")


def test_listing_is_the_shipped_set_without_bases() -> None:
    assert [m.id for m in profiles.list_machines() if m.process == "fdm"] == list(MACHINES)
    assert [m.id for m in profiles.list_materials() if m.process == "fdm"] == list(MATERIALS)
    assert [m.id for m in profiles.list_machines()] == sorted(
        MACHINES + CNC_MACHINES + LASER_MACHINES
    )
    assert [m.id for m in profiles.list_materials()] == sorted(
        MATERIALS + CNC_MATERIALS + LASER_MATERIALS
    )
    assert {d.name for d in profiles.list_dialects()} >= {"marlin", "klipper", "rrf"}
    assert any(p.name.startswith("_") for p in (profiles_dir() / "machines").glob("*.toml"))


@pytest.mark.parametrize("machine_id", MACHINES)
def test_machine_loads_with_sane_values(machine_id: str) -> None:
    m = profiles.load_machine(machine_id)
    assert m.id == machine_id and m.process == "fdm"
    assert len(m.sha256) == 64 and m.path.endswith(f"{machine_id}.toml")
    lim = m.limits
    assert lim.print_accel_mm_s2 <= min(lim.max_accel_x_mm_s2, lim.max_accel_y_mm_s2)
    assert 0 < m.nozzle_diameter_mm < m.filament_diameter_mm
    assert m.start_gcode.strip() and m.end_gcode.strip()
    # defaults are real SliceSettings overrides
    from fabthread.model.settings import SliceSettings

    SliceSettings().with_overrides(dict(m.defaults), source=m.id)
    # each listed material can run on each shipped machine
    for mat in profiles.list_materials():
        if mat.process == "fdm":
            assert profiles.material_problems(m, mat) == ()
        else:
            assert profiles.material_problems(m, mat)  # stock is not filament


def test_expected_machine_facts() -> None:
    mk4 = profiles.load_machine("prusa_mk4")
    assert (mk4.size_x_mm, mk4.size_y_mm, mk4.size_z_mm) == (250, 210, 220)
    assert mk4.dialect == "marlin" and mk4.nozzle_diameter_mm == 0.4
    voron = profiles.load_machine("voron24_350")
    assert (voron.size_x_mm, voron.size_y_mm, voron.size_z_mm) == (350, 350, 340)
    assert voron.dialect == "klipper"
    assert voron.start_gcode.strip().startswith("PRINT_START BED={first_layer_bed_temp_c}")
    assert "EXTRUDER={first_layer_nozzle_temp_c}" in voron.start_gcode
    assert voron.end_gcode.strip() == "PRINT_END"
    assert profiles.load_machine("duet3_corexy").dialect == "rrf"


def _sample_fields(m: MachineProfile) -> dict[str, object]:
    values: dict[str, object] = {name: 1.0 for name in TEMPLATE_FIELDS}
    values.update(
        nozzle_temp_c=215.0,
        first_layer_nozzle_temp_c=215.0,
        bed_temp_c=60.0,
        first_layer_bed_temp_c=60.0,
        nozzle_diameter_mm=m.nozzle_diameter_mm,
        size_x_mm=m.size_x_mm,
        size_y_mm=m.size_y_mm,
        size_z_mm=m.size_z_mm,
        max_z_mm=40.0,
        park_z_mm=min(m.size_z_mm, 50.0),
        material="pla",
        color="black",
        machine=m.id,
        order_id="A-1",
        layer_count=200,
    )
    return values


def _moves(text: str) -> list[dict[str, float]]:
    """Absolute positions reached by G0/G1 in ``text`` (the programs use G90 throughout)."""
    pos: dict[str, float] = {}
    out = []
    for line in text.splitlines():
        code = line.split(";")[0].split()
        if code and code[0] in ("G0", "G1"):
            for word in code[1:]:
                if word[0] in "XYZ":
                    pos[word[0]] = float(word[1:])
            out.append(dict(pos))
    return out


@pytest.mark.parametrize("machine_id", MACHINES)
def test_start_and_end_programs_stay_on_the_bed_and_use_known_words(machine_id: str) -> None:
    m = profiles.load_machine(machine_id)
    dialect = profiles.load_dialect(m.dialect)
    known = dialect_words(dialect, tool_count=m.extruder_count)
    for which, template in (("start", m.start_gcode), ("end", m.end_gcode)):
        text = render_template(template, _sample_fields(m), source=f"{m.id} {which}")
        for pos in _moves(text):
            assert 0 <= pos.get("X", 0) <= m.size_x_mm, (which, pos)
            assert 0 <= pos.get("Y", 0) <= m.size_y_mm, (which, pos)
            assert 0 <= pos.get("Z", 0) <= m.size_z_mm, (which, pos)
        for line in text.splitlines():
            code = line.split(";")[0].split()
            if code:
                word = code[0]
                assert word in known, f"{m.id} {which}: {word} is not a {dialect.name} word"


def test_mk4_start_heats_homes_purges_and_end_shuts_down() -> None:
    m = profiles.load_machine("prusa_mk4")
    text = render_template(m.start_gcode, _sample_fields(m))
    words = [ln.split()[0] for ln in text.splitlines() if ln.strip()]
    assert words.index("G28") < words.index("G29")  # home before levelling
    assert "M190" in words and "M109" in words
    extruded = [
        float(w[1:])
        for ln in text.splitlines()
        if ln.startswith("G1")
        for w in ln.split(";")[0].split()
        if w[0] == "E"
    ]
    assert sum(e for e in extruded if e > 0) > 5  # a real purge line, not a token one
    end = render_template(m.end_gcode, _sample_fields(m))
    assert {"M104 S0", "M140 S0", "M107"} <= {ln.split(";")[0].strip() for ln in end.splitlines()}
    assert any(ln.startswith("M84") for ln in end.splitlines())


@pytest.mark.parametrize("material_id", MATERIALS)
def test_material_loads(material_id: str) -> None:
    mat = profiles.load_material(material_id)
    assert mat.filament_diameter_mm == 1.75
    assert 150 < mat.nozzle_temp_c < 300 and mat.first_layer_nozzle_temp_c > 0
    assert 0 <= mat.fan_min_pct <= mat.fan_max_pct <= 100
    assert len(mat.colors) >= 8
    for c in mat.colors:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", c.name) and re.fullmatch(r"#[0-9A-F]{6}", c.hex)
    assert mat.color("black").name == "black"  # the hubs stock plain black


def test_material_facts() -> None:
    pla, petg = profiles.load_material("pla"), profiles.load_material("petg")
    assert pla.density_g_cm3 == 1.24 and petg.density_g_cm3 == 1.27
    assert pla.retraction is None and petg.retraction is not None
    assert petg.nozzle_temp_c > pla.nozzle_temp_c and petg.bed_temp_c > pla.bed_temp_c
    assert pla.color("galaxy_black").hex == "#1B1B1B"


def test_dialects_match_their_firmware() -> None:
    marlin, klipper, rrf = (profiles.load_dialect(n) for n in ("marlin", "klipper", "rrf"))
    assert marlin.object_start == "M486 S{id}" and rrf.object_end == "M486 S-1"
    assert klipper.object_start == "EXCLUDE_OBJECT_START NAME={name}"
    assert klipper.object_end == "EXCLUDE_OBJECT_END NAME={name}"
    assert klipper.object_define == "EXCLUDE_OBJECT_DEFINE NAME={name}"
    assert klipper.color_change == "M600"
    assert rrf.fan_scale == 1.0 and rrf.fan_on == "M106 S{pwm}"
    assert marlin.fan_scale == klipper.fan_scale == 255.0
    for d in (marlin, klipper, rrf):
        for key in ("set_hotend_temp", "wait_hotend_temp", "set_bed_temp", "wait_bed_temp"):
            assert command_fields(getattr(d, key), key) == {"temp_c"}
        assert command_fields(d.fan_on, "fan_on") <= COMMAND_FIELDS


def test_tool_words_are_the_tools_not_a_bare_t() -> None:
    rrf, klipper = profiles.load_dialect("rrf"), profiles.load_dialect("klipper")
    assert "T0" in dialect_words(rrf) and "T" not in dialect_words(rrf)
    assert "T1" not in dialect_words(rrf) and {"T0", "T1"} <= dialect_words(rrf, tool_count=2)
    assert not any(w.startswith("T") and w[1:].isdigit() for w in dialect_words(klipper))
    assert "M486" in dialect_words(rrf)  # fields after a word are cut, as before


def test_sha256_is_stable_and_content_addressed(tmp_path) -> None:
    import shutil

    a = profiles.load_machine("prusa_mk4")
    assert profiles.load_machine("prusa_mk4").sha256 == a.sha256
    assert profiles.profile_sha256(a) == a.sha256
    copy = tmp_path / "profiles"
    shutil.copytree(profiles_dir(), copy, ignore=shutil.ignore_patterns("hubs"))
    moved = profiles.load_machine("prusa_mk4", root=copy)
    assert moved.sha256 == a.sha256 and moved.path != a.path  # where it lives does not count
    path = copy / "machines" / "prusa_mk4.toml"
    path.write_text(path.read_text().replace("max_feed_z_mm_s = 40", "max_feed_z_mm_s = 12"))
    assert profiles.load_machine("prusa_mk4", root=copy).sha256 != a.sha256
    n = len(MACHINES + CNC_MACHINES + LASER_MACHINES)
    assert len({m.sha256 for m in profiles.list_machines()}) == n
