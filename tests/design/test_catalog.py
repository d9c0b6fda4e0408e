"""The design catalog: schemas load without cadquery and bad schemas name file and key."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from fabthread.design.catalog import list_designs, load_spec
from fabthread.errors import DesignError
from fabthread.paths import designs_dir

SCRIPT = "def build(p):\n    return None\n"
GOOD = """
title = "Test part"
description = "A part for tests"
processes = ["fdm"]
materials = ["pla"]

[[param]]
name = "width_mm"
type = "float"
unit = "mm"
min = 10
max = 100
step = 0.5
default = 20

[[param]]
name = "wall_mm"
type = "float"
unit = "mm"
min = 1
max = 5
default = 2

[[param]]
name = "style"
type = "choice"
choices = ["a", "b"]
default = "a"

[[constraint]]
expr = "wall_mm * 2 < width_mm"
message = "walls fill the part"

[preset.big]
width_mm = 80
"""


def _design(root: Path, toml: str, script: str = SCRIPT, name: str = "part") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "design.toml").write_text(toml)
    if script is not None:
        (folder / "design.py").write_text(script)
    return folder


def test_shipped_designs_are_listed() -> None:
    names = [s.name for s in list_designs()]
    assert {"wall_bracket", "enclosure", "cable_clip"} <= set(names) and len(names) >= 10
    assert names == sorted(names)
    for spec in list_designs():
        assert spec.title and spec.description and spec.processes and spec.materials
        assert len(spec.presets) >= 2 or spec.name in ("cable_clip", "knob", "wall_bracket")
        assert all(p.description for p in spec.params), spec.name
        assert all(p.unit == "mm" for p in spec.params if p.name.endswith("_mm")), spec.name


def test_source_hash_covers_toml_and_script() -> None:
    spec = load_spec("wall_bracket")
    folder = designs_dir() / "wall_bracket"
    want = hashlib.sha256(
        (folder / "design.toml").read_bytes() + (folder / "design.py").read_bytes()
    ).hexdigest()
    assert spec.source_sha256 == want
    assert spec.path == str(folder)


def test_schema_loads_without_cadquery() -> None:
    code = (
        "import sys\n"
        "from fabthread.design.catalog import list_designs\n"
        "from fabthread.customize.params import resolve_params\n"
        "for s in list_designs(): resolve_params(s, {})\n"
        "assert 'cadquery' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_design_lists_the_available_ones(tmp_path: Path) -> None:
    _design(tmp_path, GOOD, name="b_part")
    _design(tmp_path, GOOD, name="a_part")
    with pytest.raises(DesignError) as info:
        load_spec("nope", tmp_path)
    assert str(info.value) == "unknown design 'nope'; available: a_part, b_part"
    with pytest.raises(DesignError, match="unknown design"):
        load_spec("../a_part", tmp_path)


def test_good_design(tmp_path: Path) -> None:
    _design(tmp_path, GOOD)
    spec = load_spec("part", tmp_path)
    assert [p.name for p in spec.params] == ["width_mm", "wall_mm", "style"]
    assert spec.param("width_mm").default == 20.0 and spec.param("width_mm").step == 0.5
    assert spec.presets == (("big", (("width_mm", 80.0),)),)
    assert spec.constraints[0].message == "walls fill the part"


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ('title = "Test part"', 'title = "Test part"\ncolour = "red"', ["unknown key 'colour'"]),
        ("step = 0.5", "step = 0.5\nmni = 3", ["(width_mm)", "unknown key 'mni'"]),
        (
            "default = 20",
            "default = 200",
            ["(width_mm): default: width_mm=200 mm is above the maximum 100 mm"],
        ),
        (
            "default = 20",
            "default = 20.2",
            ["width_mm=20.2 mm is not a multiple of the step 0.5 mm", "20 or 20.5"],
        ),
        ("default = 20", 'default = "20"', ["width_mm='20' is not a number in mm"]),
        ('default = "a"', 'default = "c"', ["style=c is not one of a, b"]),
        ("min = 10", "min = 200", ["min=200 is greater than max=100"]),
        (
            'type = "float"\nunit = "mm"\nmin = 10',
            'type = "decimal"\nunit = "mm"\nmin = 10',
            ["type='decimal'; allowed: float, int, bool, choice, string"],
        ),
        ('name = "width_mm"', 'name = "Width"', ["name='Width' must be a lower-case identifier"]),
        ('name = "wall_mm"', 'name = "width_mm"', ["parameter 'width_mm' is declared twice"]),
        ('processes = ["fdm"]', 'processes = ["sla"]', ["processes has 'sla'; allowed: fdm"]),
        ("wall_mm * 2 < width_mm", "wall_mm * 2 < depth_mm", ["unknown name 'depth_mm'"]),
        ("wall_mm * 2 < width_mm", "wall_mm.real < width_mm", ["attribute access is not allowed"]),
        (
            "wall_mm * 2 < width_mm",
            "len(wall_mm) < width_mm",
            ["calling 'len' is not allowed; allowed functions: min, max"],
        ),
        ("wall_mm * 2 < width_mm", "style == 1", ["'style' is a string or choice"]),
        ("wall_mm * 2 < width_mm", "wall_mm * 2", ["must be a comparison"]),
        (
            "wall_mm * 2 < width_mm",
            "wall_mm * 20 < width_mm",
            ["the defaults: constraint wall_mm * 20 < width_mm violated"],
        ),
        ("width_mm = 80", "width_mm = 80\ndepth_mm = 3", ["[preset.big]", "unknown parameter"]),
        (
            "width_mm = 80",
            "width_mm = 101",
            ["[preset.big]: width_mm=101 mm is above the maximum 100 mm"],
        ),
        (
            "width_mm = 80",
            "wall_mm = 5\nwidth_mm = 10",
            ["[preset.big]: constraint wall_mm * 2 < width_mm violated"],
        ),
        ('message = "walls fill the part"', "message = 3", ["'message' must be a string"]),
        ('description = "A part for tests"', "", ["'description' must be a non-empty string"]),
        ("[[param]]", "[[para]]", ["unknown key 'para'"]),
        ("step = 0.5", "step = 0.5\nchoices = ['x']", ["'choices' is only allowed for choice"]),
    ],
)
def test_bad_schemas_name_file_and_key(tmp_path: Path, old: str, new: str, needles: list[str]):
    assert old in GOOD
    _design(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(DesignError) as info:
        load_spec("part", tmp_path)
    msg = str(info.value)
    assert msg.startswith(str(tmp_path / "part" / "design.toml")), msg
    for needle in needles:
        assert needle in msg, msg


def test_broken_toml_and_script(tmp_path: Path) -> None:
    _design(tmp_path, "title = ", name="toml_bad")
    with pytest.raises(DesignError, match=r"toml_bad/design.toml: not valid TOML"):
        load_spec("toml_bad", tmp_path)
    _design(tmp_path, GOOD, script=None, name="no_script")
    with pytest.raises(DesignError, match=r"no_script/design.py: missing"):
        load_spec("no_script", tmp_path)
    _design(tmp_path, GOOD, script="def make(p):\n    pass\n", name="no_build")
    with pytest.raises(DesignError, match=r"no top-level 'def build\(p\)'"):
        load_spec("no_build", tmp_path)
    _design(tmp_path, GOOD, script="def build(p:\n", name="syntax")
    with pytest.raises(DesignError, match=r"syntax/design.py: line 1"):
        load_spec("syntax", tmp_path)
