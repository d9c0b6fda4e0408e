"""The whole thread, end to end: order -> bundle, mesh -> G-code, and bad input at the CLI.

These run the real stages (design build, slicer, emitter, reader, packer) and check properties
of what comes out, read back with our own G-code reader and bundle verifier.
"""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fabthread import profiles
from fabthread.bundle.verify import verify_bundle
from fabthread.cli.main import cli
from fabthread.gcode.reader import read_gcode
from fabthread.pipeline import run_order, slice_mesh

ROOT = Path(__file__).resolve().parents[1]
CUBE = Path("/work/shared/meshes/20mm-xyz-cube.stl")
if not CUBE.exists():  # CI clones shared/ beside the project
    CUBE = ROOT.parent / "shared" / "meshes" / "20mm-xyz-cube.stl"

CLIP_ORDER = {
    "order_id": "T-1",
    "design": "cable_clip",
    "machine": "prusa_mk4",
    "material": "pla",
    "color": "signal_red",
    "quantity": 3,
    "params": {"cable_d_mm": 6},
}


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def test_order_to_verified_bundle_is_byte_identical(tmp_path: Path) -> None:
    a = run_order(CLIP_ORDER, tmp_path / "a", cache_dir=tmp_path / "cache")
    b = run_order(CLIP_ORDER, tmp_path / "b", cache_dir=tmp_path / "cache")
    assert Path(a.path).read_bytes() == Path(b.path).read_bytes()
    assert a.sha256 == b.sha256
    report = verify_bundle(Path(a.path))
    assert report.ok, report.problems
    m = a.manifest
    assert m["order"]["order_id"] == "T-1"
    assert m["params"]["cable_d_mm"] == 6
    assert m["machine"]["profile_sha256"] == profiles.load_machine("prusa_mk4").sha256
    assert m["color"] == {"name": "signal_red", "hex": "#A52019"}
    assert {f["path"] for f in m["files"]} == {"job.gcode", "model.3mf", "report.json"}
    assert m["estimate"]["time_s"] > 0 and m["estimate"]["filament_g"] > 0
    assert m["quantity"]["ordered"] == 3


def test_bundle_gcode_stays_inside_the_machine_and_matches_the_manifest(tmp_path: Path) -> None:
    bundle = run_order(CLIP_ORDER, tmp_path, cache_dir=tmp_path / "cache")
    with zipfile.ZipFile(bundle.path) as zf:
        text = zf.read("job.gcode").decode()
    moves = read_gcode(text)
    machine = profiles.load_machine("prusa_mk4")
    lo, hi = (np.asarray(b) for b in moves.bounds())
    assert np.all(lo >= -1e-6)
    assert np.all(hi <= [machine.size_x_mm, machine.size_y_mm, machine.size_z_mm])
    est = bundle.manifest["estimate"]
    assert est["layers"] == moves.layer_count


def test_cube_at_full_infill_extrudes_its_volume(tmp_path: Path) -> None:
    """Issue 2: a 20 mm cube at 100 % infill extrudes within 3 % of its volume."""
    _toolpath, program = slice_mesh(
        CUBE, "prusa_mk4", "pla", overrides={"infill_density": 1.0, "skirt_loops": 0}
    )
    moves = read_gcode(program.text)
    material = profiles.load_material("pla")
    area = math.pi * (material.filament_diameter_mm / 2) ** 2
    net_e_mm = float(moves.e_mm.sum())
    deposited_mm3 = net_e_mm * area / material.extrusion_multiplier
    import trimesh

    volume = trimesh.load(CUBE).volume
    assert abs(deposited_mm3 - volume) / volume < 0.03


def test_make_cli_bad_inputs_exit_2_with_one_line_and_no_output(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = {
        "unknown design": {**CLIP_ORDER, "design": "no_such_design"},
        "out of range": {**CLIP_ORDER, "params": {"cable_d_mm": 500}},
        "unknown machine": {**CLIP_ORDER, "machine": "no_such_machine"},
        "bad color": {**CLIP_ORDER, "color": "plaid"},
        "malformed": {"order_id": "x"},
    }
    for name, order in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(order))
        out = tmp_path / "out"
        result = runner.invoke(cli, ["make", str(path), "-o", str(out)])
        assert result.exit_code == 2, (name, result.output)
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, result.stderr)
        assert "Traceback" not in result.output
        assert _files(out) == [], name
    missing = runner.invoke(cli, ["make", str(tmp_path / "nope.json"), "-o", str(tmp_path)])
    assert missing.exit_code == 2 and "not found" in missing.stderr


def test_broken_profile_names_file_and_key(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(ROOT / "profiles", home / "profiles")
    shutil.copytree(ROOT / "designs", home / "designs")
    mk4 = home / "profiles" / "machines" / "prusa_mk4.toml"
    mk4.write_text(mk4.read_text() + "\nnozle_typo = 3\n")
    monkeypatch.setenv("FABTHREAD_HOME", str(home))
    order = tmp_path / "o.json"
    order.write_text(json.dumps(CLIP_ORDER))
    result = CliRunner().invoke(cli, ["make", str(order), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "prusa_mk4.toml" in result.stderr and "nozle_typo" in result.stderr
    assert _files(tmp_path / "out") == []


@pytest.mark.slow
def test_every_example_order_makes_a_verified_bundle(tmp_path: Path) -> None:
    for path in sorted((ROOT / "examples" / "orders").glob("*.json")):
        bundle = run_order(path, tmp_path, cache_dir=tmp_path / "cache")
        assert verify_bundle(Path(bundle.path)).ok, path


def test_bodies_in_two_colours_print_with_two_tools() -> None:
    from fabthread.pipeline import plan_order

    order = {
        "order_id": "E-2",
        "design": "enclosure",
        "machine": "prusa_xl_2t",
        "material": "pla",
        "color": "signal_red",
        "colors": {"lid": "galaxy_black"},
    }
    plan = plan_order(order)
    tools = {body: tool for body, _, tool in plan.colors}
    assert tools == {"box": 0, "lid": 1}
    tp = plan.toolpath
    assert set(np.unique(tp.tool[tp.extrude_mm3 > 0])) == {0, 1}
    text = plan.program.text
    assert "\nT1\n" in text and "\nT0\n" in text
    # the same order on a one-tool machine is refused with the reason
    from fabthread.errors import OrderError

    with pytest.raises(OrderError, match="need a machine with 2 tools; prusa_mk4 has 1"):
        plan_order({**order, "machine": "prusa_mk4"})
    with pytest.raises(OrderError, match="has no body 'handle'; bodies: box, lid"):
        plan_order({**order, "colors": {"handle": "galaxy_black"}})


def test_body_colours_reach_the_3mf(tmp_path: Path) -> None:
    import re

    order = {
        "order_id": "E-3",
        "design": "enclosure",
        "machine": "prusa_xl_2t",
        "material": "pla",
        "color": "signal_red",
        "colors": {"lid": "galaxy_black"},
    }
    bundle = run_order(order, tmp_path, cache_dir=tmp_path / "cache")
    with zipfile.ZipFile(bundle.path) as zf, zipfile.ZipFile(zf.open("model.3mf")) as model:
        xml = model.read("3D/3dmodel.model").decode()
    assert re.findall(r'displaycolor="(#[0-9A-F]+)"', xml) == ["#A52019", "#1B1B1B"]
    tagged = xml.count('pid="1" p1="1"')
    assert 0 < tagged < xml.count("<triangle ")
    assert bundle.manifest["body_colors"]["lid"]["tool"] == 1
