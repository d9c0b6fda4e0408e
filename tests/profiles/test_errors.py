"""Broken profile trees: every mistake is a ProfileError naming the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fabthread import profiles
from fabthread.errors import ProfileError
from fabthread.paths import profiles_dir

BASE = """
process = "fdm"
[extruder]
nozzle_diameter_mm = 0.4
max_hotend_temp_c = 280
[limits]
max_feed_x_mm_s = 200
max_feed_y_mm_s = 200
max_feed_z_mm_s = 12
max_feed_e_mm_s = 60
max_accel_x_mm_s2 = 2000
max_accel_y_mm_s2 = 2000
max_accel_z_mm_s2 = 200
max_accel_e_mm_s2 = 2000
print_accel_mm_s2 = 1500
travel_accel_mm_s2 = 2000
[retraction]
length_mm = 1.0
[defaults]
perimeters = 3
"""

LEAF = """
name = "Test printer"
inherits = "_base"
dialect = "marlin"
[volume]
x_mm = 200
y_mm = 180
z_mm = 150
[retraction]
speed_mm_s = 30
[defaults]
infill_density = 0.3
[gcode]
start = "G28\\nM104 S{first_layer_nozzle_temp_c}\\n"
end = "M104 S0\\nM84\\n"
"""

MATERIAL = """
name = "Test PLA"
process = "fdm"
density_g_cm3 = 1.24
[temperature]
nozzle_c = 210
bed_c = 60
[[color]]
name = "black"
hex = "#111111"
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    r = tmp_path / "profiles"
    (r / "machines").mkdir(parents=True)
    (r / "materials").mkdir()
    shutil.copytree(profiles_dir() / "dialects", r / "dialects")
    (r / "machines" / "_base.toml").write_text(BASE)
    (r / "machines" / "x.toml").write_text(LEAF)
    (r / "materials" / "m.toml").write_text(MATERIAL)
    return r


def _error(fn, *args) -> str:
    with pytest.raises(ProfileError) as info:
        fn(*args)
    return str(info.value)


def test_inherits_deep_merges_tables(root: Path) -> None:
    m = profiles.load_machine("x", root)
    assert m.retraction.length_mm == 1.0  # from the base
    assert m.retraction.speed_mm_s == 30.0  # from the leaf, same table
    assert m.max_hotend_temp_c == 280.0 and m.limits.max_feed_z_mm_s == 12.0
    assert dict(m.defaults) == {"perimeters": 3, "infill_density": 0.3}
    assert [p.id for p in profiles.list_machines(root)] == ["x"]  # _base is not listed


def test_recursive_inherits(root: Path) -> None:
    (root / "machines" / "_mid.toml").write_text('inherits = "_base"\n[bed]\nmax_temp_c = 100\n')
    (root / "machines" / "x.toml").write_text(LEAF.replace('"_base"', '"_mid"'))
    m = profiles.load_machine("x", root)
    assert m.max_bed_temp_c == 100.0 and m.limits.max_accel_x_mm_s2 == 2000.0


def test_unknown_key_names_file_and_key_and_allowed(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(LEAF + "[limits]\nmax_fed_x_mm_s = 3\n")
    msg = _error(profiles.load_machine, "x", root)
    assert msg.startswith("profiles/machines/x.toml: unknown key 'limits.max_fed_x_mm_s'")
    assert "allowed: " in msg and "limits.max_feed_x_mm_s" in msg


def test_unknown_key_in_base_names_the_base(root: Path) -> None:
    (root / "machines" / "_base.toml").write_text(BASE + "colour = 1\n")
    msg = _error(profiles.load_machine, "x", root)
    assert "profiles/machines/_base.toml: unknown key 'defaults.colour'" in msg


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("x_mm = 200", 'x_mm = "wide"', "x.toml: volume.x_mm='wide' is not allowed; expected"),
        ("x_mm = 200", "x_mm = -5", "x.toml: volume.x_mm=-5 is not allowed; expected a number > 0"),
        ("[volume]", "[extruder]\ncount = 1.5\n[volume]", "extruder.count=1.5"),
        (
            "[volume]",
            "[extruder]\nmax_hotend_temp_c = 900\n[volume]",
            "extruder.max_hotend_temp_c=900",
        ),
        ("[volume]", 'thumbnails = [[16, "x"]]\n[volume]', "x.toml: thumbnails="),
        ("infill_density = 0.3", "perimeters = true", "defaults.perimeters=true"),
        ("infill_density = 0.3", "walls = 3", "x.toml: unknown key 'defaults.walls'"),
        ("infill_density = 0.3", "infill_density = 2.0", "infill_density=2.0"),
        ('dialect = "marlin"', 'dialect = "marlin"\nprocess = "sla"', "process='sla'"),
        (
            "[volume]",
            "[limits]\nprint_accel_mm_s2 = 9000\n[volume]",
            "x.toml: limits.print_accel_mm_s2=9000 is above limits.max_accel_x_mm_s2=2000",
        ),
    ],
)
def test_bad_values_name_file_and_key(root: Path, old: str, new: str, needle: str) -> None:
    (root / "machines" / "x.toml").write_text(LEAF.replace(old, new, 1))
    msg = _error(profiles.load_machine, "x", root)
    assert msg.startswith("profiles/machines/") and needle in msg


def test_bad_template_field(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(
        LEAF.replace("{first_layer_nozzle_temp_c}", "{hotend_temp}")
    )
    msg = _error(profiles.load_machine, "x", root)
    assert "profiles/machines/x.toml: gcode.start" in msg and "'{hotend_temp}'" in msg


def test_template_expression_is_refused(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(
        LEAF.replace("{first_layer_nozzle_temp_c}", "{first_layer_nozzle_temp_c + 5}")
    )
    assert "not a plain name" in _error(profiles.load_machine, "x", root)


def test_literal_temperature_above_machine_max(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(LEAF.replace("M104 S0", "M109 S320"))
    msg = _error(profiles.load_machine, "x", root)
    assert "x.toml: gcode.end sets M109 320" in msg and "max_hotend_temp_c=280" in msg


def test_inherits_cycle(root: Path) -> None:
    (root / "machines" / "_base.toml").write_text('inherits = "_other"\n' + BASE)
    (root / "machines" / "_other.toml").write_text('inherits = "_base"\n')
    msg = _error(profiles.load_machine, "x", root)
    assert msg.startswith("profiles/machines/x.toml: inherits cycle x -> _base -> _other -> _base")


def test_missing_base_file(root: Path) -> None:
    (root / "machines" / "_base.toml").unlink()
    msg = _error(profiles.load_machine, "x", root)
    assert "profiles/machines/x.toml: inherits '_base'" in msg and "does not exist" in msg


def test_inherits_must_name_a_base(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(LEAF.replace('"_base"', '"prusa_mk4"'))
    assert "x.toml: inherits='prusa_mk4'" in _error(profiles.load_machine, "x", root)


def test_unknown_id_lists_available(root: Path) -> None:
    (root / "machines" / "y.toml").write_text(LEAF)
    assert _error(profiles.load_machine, "nope", root) == "unknown machine 'nope'; available: x, y"
    assert "unknown material 'abs'; available: m" == _error(profiles.load_material, "abs", root)
    assert "../x" in _error(profiles.load_machine, "../x", root)


def test_missing_required_key(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(LEAF.replace("z_mm = 150\n", ""))
    assert "x.toml: missing key 'volume.z_mm'" in _error(profiles.load_machine, "x", root)


def test_unknown_dialect(root: Path) -> None:
    (root / "machines" / "x.toml").write_text(LEAF.replace('"marlin"', '"smoothie"'))
    msg = _error(profiles.load_machine, "x", root)
    assert "x.toml: dialect='smoothie'" in msg and "klipper, linuxcnc, marlin, rrf" in msg


def test_invalid_toml(root: Path) -> None:
    (root / "machines" / "x.toml").write_text("name = \n")
    assert "profiles/machines/x.toml: not valid TOML" in _error(profiles.load_machine, "x", root)


def test_fdm_sections_refused_for_cnc(root: Path) -> None:
    text = (
        LEAF.replace('inherits = "_base"\n', 'process = "cnc"\n')
        .replace("[retraction]\nspeed_mm_s = 30\n", "")
        .replace("[defaults]\ninfill_density = 0.3\n", "")
    )
    text += "[bed]\nmax_temp_c = 60\n" + BASE.split("[retraction]")[0].split("[limits]")[1].join(
        ["[limits]", ""]
    )
    (root / "machines" / "x.toml").write_text(text)
    msg = _error(profiles.load_machine, "x", root)
    assert "x.toml: key 'bed' is not used by cnc machines" in msg


def test_cnc_machine_without_extruder_loads(root: Path) -> None:
    limits = "[limits]" + BASE.split("[limits]")[1].split("[retraction]")[0]
    limits = "\n".join(ln for ln in limits.splitlines() if "_e_" not in ln) + "\n"
    (root / "machines" / "mill.toml").write_text(
        'name = "Mill"\nprocess = "cnc"\ndialect = "marlin"\n'
        "[volume]\nx_mm = 300\ny_mm = 200\nz_mm = 80\n[spindle]\nmax_rpm = 24000\n" + limits
    )
    m = profiles.load_machine("mill", root)
    assert m.process == "cnc" and m.limits.max_feed_e_mm_s == 0.0
    assert m.spindle_max_rpm == 24000.0 and m.work_offset == "G54"
    path = root / "machines" / "mill.toml"
    path.write_text(path.read_text().replace("[spindle]\nmax_rpm = 24000\n", ""))
    assert "missing key 'spindle.max_rpm'" in _error(profiles.load_machine, "mill", root)
    path.write_text(path.read_text() + "[extruder]\ncount = 1\n")
    assert "key 'extruder' is not used by cnc machines" in _error(
        profiles.load_machine, "mill", root
    )


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('name = "black"', 'name = "Black"', "color[0].name='Black'"),
        ('hex = "#111111"', 'hex = "red"', "color[0].hex='red'"),
        ("nozzle_c = 210", "nozzle_c = 610", "temperature.nozzle_c=610"),
        ("density_g_cm3 = 1.24", "density_g_cm3 = 0", "density_g_cm3=0"),
        ("[temperature]", "[temperatures]", "unknown key 'temperatures'"),
        ("bed_c = 60\n", "", "missing key 'temperature.bed_c'"),
    ],
)
def test_bad_material(root: Path, old: str, new: str, needle: str) -> None:
    (root / "materials" / "m.toml").write_text(MATERIAL.replace(old, new))
    msg = _error(profiles.load_material, "m", root)
    assert msg.startswith("profiles/materials/m.toml: ") and needle in msg


def test_duplicate_color_and_fan_range(root: Path) -> None:
    dup = '[[color]]\nname = "black"\nhex = "#000000"\n'
    (root / "materials" / "m.toml").write_text(MATERIAL + dup)
    assert "color[1].name='black' appears twice" in _error(profiles.load_material, "m", root)
    (root / "materials" / "m.toml").write_text(
        MATERIAL + "[cooling]\nfan_min_pct = 80\nfan_max_pct = 40\n"
    )
    assert "cooling.fan_min_pct=80 is above" in _error(profiles.load_material, "m", root)


def test_material_problems_against_machine(root: Path) -> None:
    hot = MATERIAL.replace("nozzle_c = 210", "nozzle_c = 300")
    (root / "materials" / "hot.toml").write_text(hot)
    machine = profiles.load_machine("x", root)
    problems = profiles.material_problems(machine, profiles.load_material("hot", root))
    assert problems == ("material hot needs a 300 °C nozzle; machine x reaches 280 °C",)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('set_hotend_temp = "M104 S{temperature}"', "unknown field '{temperature}'"),
        ('fan_on = "M106 S{temp_c}"', "fan_on uses temp_c; allowed here: pwm"),
        ('set_bed_temp = "M140 S60"', "set_bed_temp must use temp_c"),
        ('fan_on = "M106 S{pwm"', "unbalanced brace"),
        ("fan_scale = 0", "fan_scale=0"),
        ('gcode_flavor = "marlin2"', "unknown key 'gcode_flavor'"),
        ('name = "klipper"', "name='klipper' must equal the file name 'marlin'"),
        ('extra_words = ["m600"]', "extra_words entry 'm600'"),
    ],
)
def test_bad_dialect(root: Path, line: str, needle: str) -> None:
    (root / "dialects" / "marlin.toml").write_text('comment = ";"\n' + line + "\n")
    msg = _error(profiles.load_dialect, "marlin", root)
    assert msg.startswith("profiles/dialects/marlin.toml: ") and needle in msg
