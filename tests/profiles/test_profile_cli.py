"""`fabthread profile list|show` on the shipped profiles."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fabthread import profiles
from fabthread.cli.main import cli


def test_list_json_matches_the_library() -> None:
    res = CliRunner().invoke(cli, ["profile", "list", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [m["id"] for m in data["machines"]] == [m.id for m in profiles.list_machines()]
    assert [m["id"] for m in data["materials"]] == [m.id for m in profiles.list_materials()]
    assert {"petg", "pla"} <= {m["id"] for m in data["materials"]}
    mk4 = next(m for m in data["machines"] if m["id"] == "prusa_mk4")
    assert mk4["volume_mm"] == [250.0, 210.0, 220.0]
    assert mk4["sha256"] == profiles.load_machine("prusa_mk4").sha256


def test_list_human() -> None:
    res = CliRunner().invoke(cli, ["profile", "list"])
    assert res.exit_code == 0 and "voron24_350" in res.output and "250 x 210 x 220" in res.output
    assert "_fdm_base" not in res.output


def test_show() -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["profile", "show", "voron24_350", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["kind"] == "machine" and data["dialect"] == "klipper"
    assert data["limits"]["max_accel_x_mm_s2"] == 3000.0
    res = runner.invoke(cli, ["profile", "show", "pla", "--json"])
    assert json.loads(res.output)["density_g_cm3"] == 1.24
    res = runner.invoke(cli, ["profile", "show", "klipper", "--kind", "dialect", "--json"])
    assert json.loads(res.output)["object_start"] == "EXCLUDE_OBJECT_START NAME={name}"
    human = runner.invoke(cli, ["profile", "show", "prusa_mk4"])
    assert human.exit_code == 0 and "G28" in human.output


def test_unknown_profile_exit_2() -> None:
    res = CliRunner().invoke(cli, ["profile", "show", "nope"])
    assert res.exit_code == 2 and "unknown profile 'nope'" in res.output
    res = CliRunner().invoke(cli, ["profile", "show", "nope", "--kind", "machine"])
    assert res.exit_code == 2 and "unknown machine 'nope'; available:" in res.output
