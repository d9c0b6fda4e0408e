"""`fabthread design list|show|build` through click, as a user runs them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import trimesh
from click.testing import CliRunner

from fabthread.cli.main import cli
from fabthread.design.catalog import list_designs, load_spec


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FABTHREAD_CACHE", str(tmp_path / "cache"))
    return CliRunner()


def test_list_json(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["design", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["name"] for r in rows] == [s.name for s in list_designs()]
    bracket = next(r for r in rows if r["name"] == "wall_bracket")
    assert bracket["parameters"] == len(load_spec("wall_bracket").params)
    assert bracket["processes"] == ["fdm"]


def test_list_and_show_human(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["design", "list"])
    assert res.exit_code == 0 and "enclosure" in res.stdout
    res = runner.invoke(cli, ["design", "show", "enclosure"])
    assert res.exit_code == 0
    assert "lip_clearance_mm" in res.stdout and "0..0.8 step 0.05" in res.stdout


def test_show_json_is_a_configurator_schema(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["design", "show", "cable_clip", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    spec = load_spec("cable_clip")
    assert data["source_sha256"] == spec.source_sha256
    assert [p["name"] for p in data["parameters"]] == [p.name for p in spec.params]
    by_name = {p["name"]: p for p in data["parameters"]}
    want = {
        "type": "number",
        "kind": "float",
        "initial": 6.0,
        "min": 2.0,
        "max": 30.0,
        "step": 0.1,
        "unit": "mm",
    }
    assert {k: by_name["cable_d_mm"][k] for k in want} == want
    assert by_name["tabs"]["options"] == [
        {"name": "one", "value": "one"},
        {"name": "two", "value": "two"},
    ]
    assert set(data) >= {
        "name",
        "title",
        "description",
        "processes",
        "materials",
        "constraints",
        "parameterSets",
    }
    assert data["parameterSets"]["usb"]["cable_d_mm"] == 3.5
    assert all(set(c) == {"expr", "message"} for c in data["constraints"])


@pytest.mark.parametrize("suffix", [".stl", ".3mf", ".step"])
def test_build_writes_the_file(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"clip{suffix}"
    res = runner.invoke(
        cli,
        [
            "design",
            "build",
            "cable_clip",
            "-p",
            "cable_d_mm=8",
            "-p",
            "tabs=one",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["params"]["cable_d_mm"] == 8.0 and summary["bytes"] == out.stat().st_size
    if suffix == ".step":
        assert out.read_bytes().startswith(b"ISO-10303-21;")
        return
    mesh = trimesh.load(io.BytesIO(out.read_bytes()), file_type=suffix[1:], force="mesh")
    assert len(mesh.faces) == summary["triangles"] and mesh.is_watertight


def test_build_with_preset(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "box.stl"
    res = runner.invoke(
        cli, ["design", "build", "enclosure", "--preset", "pi_zero", "-o", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["params"]["inner_x_mm"] == 70.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["wall_bracket", "-p", "width_mm=500"], "width_mm=500 mm is above the maximum 120 mm"),
        (["wall_bracket", "-p", "width_mm"], "-p 'width_mm' is not KEY=VALUE"),
        (["wall_bracket", "-p", "colour=red"], "unknown parameter 'colour'"),
        (["wall_bracket", "--preset", "giant"], "unknown preset 'giant'"),
        (["nope"], "unknown design 'nope'; available: "),
        (["wall_bracket", "-p", "hole_d_mm=8"], "constraint head_d_mm >= hole_d_mm + 1 violated"),
    ],
)
def test_bad_input_exit_2_one_line_no_file(
    runner: CliRunner, tmp_path: Path, args: list[str], needle: str
) -> None:
    out = tmp_path / "out" / "part.stl"
    res = runner.invoke(cli, ["design", "build", *args, "-o", str(out)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert not out.exists() and not (tmp_path / "out").exists()


def test_bad_suffix_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["design", "build", "wall_bracket", "-o", str(tmp_path / "a.obj")])
    assert res.exit_code == 2 and "allowed: .step, .stp, .stl, .3mf" in res.stderr
    assert list(tmp_path.iterdir()) == []
