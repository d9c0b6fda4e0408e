"""`fabthread gcode info` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from gcodekit import MARLIN, cube, filament_area, machine, material

from fabthread.cli.main import cli
from fabthread.gcode.emit import emit_gcode


@pytest.fixture()
def job(tmp_path: Path) -> Path:
    path = tmp_path / "cube.gcode"
    path.write_text(emit_gcode(cube(layers=6), machine(start="G28\n", end=""), material(), MARLIN))
    return path


def test_info_json(job: Path) -> None:
    res = CliRunner().invoke(cli, ["gcode", "info", str(job), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    tp = cube(layers=6)
    assert data["layers"] == 6
    assert data["retractions"] == int(tp.retract.sum())
    assert data["filament_mm"] == pytest.approx(tp.extruded_mm3 / filament_area(), abs=1e-3)
    assert data["filament_g"] == pytest.approx(
        data["filament_mm"] * filament_area() * 1.24e-3, abs=1e-3
    )
    lo, hi = tp.xyz_mm.min(axis=0), tp.xyz_mm.max(axis=0)
    assert data["min_xyz_mm"] == pytest.approx(list(lo)) and data["max_xyz_mm"] == pytest.approx(
        list(hi)
    )
    assert data["time_s"] > 0 and data["time_hms"].count(":") == 2
    assert len(data["assumed"]) == 2  # generic limits and filament, said so


def test_info_human(job: Path) -> None:
    res = CliRunner().invoke(cli, ["gcode", "info", str(job)])
    assert res.exit_code == 0, res.output
    rows = dict(line.split(None, 1) for line in res.stdout.splitlines() if line.strip())
    assert rows["layers"].strip() == "6"
    assert rows["time"].strip().count(":") == 2
    assert "note: assumed generic motion limits" in res.stderr


def test_info_with_profiles(job: Path) -> None:
    runner = CliRunner()
    plain = json.loads(runner.invoke(cli, ["gcode", "info", str(job), "--json"]).stdout)
    res = runner.invoke(cli, ["gcode", "info", str(job), "-m", "prusa_mk4", "-M", "petg", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["assumed"] == [] and data["machine"] == "prusa_mk4"
    assert data["filament_mm"] == plain["filament_mm"]
    assert data["time_s"] != plain["time_s"]  # the machine's limits, not the generic ones


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        (b"G1 X10\nG1 X1.2.3\n", "line 2: malformed number"),
        (b"\x00\x01binary", "not a text G-code file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "bad.gcode"
    if content is not None:
        path.write_bytes(content)
    res = CliRunner().invoke(cli, ["gcode", "info", str(path)])
    assert res.exit_code == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_unknown_machine_is_a_user_error(job: Path) -> None:
    res = CliRunner().invoke(cli, ["gcode", "info", str(job), "-m", "no_such_machine"])
    assert res.exit_code == 2 and "no_such_machine" in res.stderr
