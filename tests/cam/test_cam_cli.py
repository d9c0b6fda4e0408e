"""`fabthread cam` (the command is registered in cli/main.py by the lead; here it is invoked
directly)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fabthread.cli.cam_cmd import cam
from fabthread.cli.main import FabGroup


def _cli():
    group = FabGroup("fabthread")
    group.add_command(cam)
    return group


def test_cam_writes_one_program_per_tool_for_grbl(tmp_path) -> None:
    out = tmp_path / "riser.nc"
    res = CliRunner().invoke(
        _cli(),
        [
            "cam",
            "/work/shared/meshes/idler_riser.stl",
            "--units",
            "inch",
            "-m",
            "shapeoko4_xl",
            "-M",
            "hdpe",
            "--op",
            "profile",
            "--op",
            "finish",
            "--split-tools",
            "-o",
            str(out),
            "--json",
        ],
        obj={},
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["dialect"] == "grbl" and data["tools"] == [1, 3]
    assert len(data["outputs"]) == 2
    for path in data["outputs"]:
        text = open(path).read()
        assert "M6" not in text and text.endswith("M30\n")


def test_cam_refuses_tool_change_on_grbl_with_a_user_error(tmp_path) -> None:
    out = tmp_path / "x.nc"
    res = CliRunner().invoke(
        _cli(),
        [
            "cam",
            "/work/shared/meshes/idler_riser.stl",
            "--units",
            "inch",
            "-m",
            "shapeoko4_xl",
            "-M",
            "hdpe",
            "--op",
            "profile",
            "--op",
            "finish",
            "-o",
            str(out),
        ],
        obj={},
    )
    assert res.exit_code == 2 and "not supported by dialect grbl" in res.output
    assert not out.exists()  # no half-written file
