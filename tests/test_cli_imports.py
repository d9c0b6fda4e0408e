"""``fabthread slice`` loads only what slicing needs: start-up is a third of slicing a small
part, and most of fabthread's own share of it is creating dataclasses. The order pipeline,
designs, parameters, CAM, bundles and the hub commands stay unloaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import trimesh

#: Modules a mesh slice must not import (each was imported by every command before).
NOT_FOR_SLICING = (
    "fabthread.pipeline",
    "fabthread.model.order",
    "fabthread.model.params",
    "fabthread.model.fit",
    "fabthread.model.cam",
    "fabthread.model.bundle",
    "fabthread.expr",
    "fabthread.profiles.tools",
    "fabthread.cli.hub_cmd",
    "fabthread.cli.bundle_cmd",
    "fabthread.cli.cam_cmd",
    "fabthread.cli.design_cmd",
    # the worker processes are forked by slice.workers, not a multiprocessing pool, and
    # nothing calls the np.unique that imports numpy.ma (8-20 ms each)
    "multiprocessing",
    "concurrent.futures",
    "numpy.ma",
    # output files are written through io_atomic's own temporary name (tempfile imports
    # shutil, random and the compression modules: 3-4 ms)
    "tempfile",
)

SCRIPT = """
import json, sys
from fabthread.cli.main import cli
try:
    cli(sys.argv[1:], prog_name="fabthread")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_slice_command_imports_only_what_slicing_needs(tmp_path: Path) -> None:
    mesh = tmp_path / "cube.stl"
    # 70 layers: sliced in worker processes
    trimesh.creation.box(extents=(10, 10, 14)).export(mesh)
    args = [
        "-q",
        "slice",
        str(mesh),
        "-m",
        "prusa_mk4",
        "-M",
        "pla",
        "-o",
        str(tmp_path / "c.gcode"),
    ]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None)
    assert (tmp_path / "c.gcode").stat().st_size > 1000
    loaded = set(report["modules"]) & set(NOT_FOR_SLICING)
    assert not loaded, f"slicing a mesh imported {sorted(loaded)}"
    assert "fabthread.slice_job" in report["modules"]  # the check saw the slice run


def test_every_command_is_listed_and_loads() -> None:
    from click.testing import CliRunner

    from fabthread.cli.main import COMMANDS, cli

    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in res.output
        assert CliRunner().invoke(cli, [name, "--help"]).exit_code == 0, name
