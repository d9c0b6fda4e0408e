from __future__ import annotations

import json

import numpy as np
import pytest
from checkkit import box
from click.testing import CliRunner

from fabthread.cli.check_cmd import check
from fabthread.cli.main import FabGroup


def _cli():
    group = FabGroup(name="fabthread")
    group.add_command(check)
    return group


def _run(*args: str):
    return CliRunner().invoke(_cli(), ["check", *args], obj={"quiet": True})


def _stl(tmp_path, mesh, name="part.stl") -> str:
    path = tmp_path / name
    mesh.export(path)
    return str(path)


def test_part_that_fits_exits_0(tmp_path) -> None:
    res = _run(_stl(tmp_path, box((0, 0, 0), (20, 20, 20))), "-m", "prusa_mk4", "-M", "pla")
    assert res.exit_code == 0, res.output
    assert "0 errors" in res.output


def test_too_big_part_exits_1_with_a_json_error(tmp_path) -> None:
    path = _stl(tmp_path, box((0, 0, 0), (300, 300, 10)))
    res = _run(path, "-m", "prusa_mk4", "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert set(data) == {
        "part",
        "machine",
        "material",
        "process",
        "ok",
        "counts",
        "rules",
        "findings",
    }
    assert data["ok"] is False and data["machine"] == "prusa_mk4" and data["part"] == "part"
    (f,) = [f for f in data["findings"] if f["rule"] == "build_volume"]
    assert f["severity"] == "error" and f["measured"] == 300 and f["limit"] == 210


def test_units_scale_the_mesh(tmp_path) -> None:
    path = _stl(tmp_path, box((0, 0, 0), (2, 2, 2)))  # 2 inch = 50.8 mm: fits
    assert _run(path, "-m", "prusa_mk4", "--units", "inch").exit_code == 0
    path = _stl(tmp_path, box((0, 0, 0), (0.3, 0.3, 0.3)), "big.stl")  # 300 mm
    assert _run(path, "-m", "prusa_mk4", "--units", "m").exit_code == 1


def test_open_mesh_is_an_error_as_is_and_passes_repaired(tmp_path) -> None:
    b = box((0, 0, 0), (20, 20, 20))
    b.update_faces(np.arange(len(b.faces)) != int(np.argmax(b.face_normals[:, 2])))
    path = _stl(tmp_path, b)
    res = _run(path, "-m", "prusa_mk4", "--json")
    assert res.exit_code == 1
    assert "open_edges" in {f["rule"] for f in json.loads(res.stdout)["findings"]}
    assert _run(path, "-m", "prusa_mk4", "--repair").exit_code == 0


def test_bad_input_exits_2(tmp_path) -> None:
    path = _stl(tmp_path, box((0, 0, 0), (20, 20, 20)))
    assert _run(path, "-m", "no_such_machine").exit_code == 2
    assert _run(str(tmp_path / "missing.stl"), "-m", "prusa_mk4").exit_code == 2
    assert _run(path, "-m", "prusa_mk4", "--limit", "nope=1").exit_code == 2
    assert _run(path, "-m", "prusa_mk4", "-p", "width_mm=3").exit_code == 2
    assert _run("no_such_design", "-m", "prusa_mk4").exit_code == 2


def test_limit_override_changes_the_verdict(tmp_path) -> None:
    path = _stl(tmp_path, box((0, 0, 0), (20, 20, 0.3)))
    assert _run(path, "-m", "prusa_mk4").exit_code == 1
    res = _run(path, "-m", "prusa_mk4", "--limit", "min_wall_error_mm=0.2", "--json")
    assert res.exit_code == 0
    (f,) = [f for f in json.loads(res.stdout)["findings"] if f["rule"] == "min_wall"]
    assert f["severity"] == "warning"


@pytest.mark.slow
def test_design_is_built_and_checked() -> None:
    res = _run("wall_bracket", "-m", "prusa_mk4", "-M", "pla", "--json")
    assert res.exit_code in (0, 1), res.output
    data = json.loads(res.stdout)
    assert data["part"] and data["params"]["width_mm"] == 30
    res = _run(
        "wall_bracket",
        "-m",
        "prusa_mk4",
        "-p",
        "shelf_arm_mm=250",
        "-p",
        "wall_arm_mm=250",
        "--json",
    )
    assert "build_volume" in {f["rule"] for f in json.loads(res.stdout)["findings"]}
