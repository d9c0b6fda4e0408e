"""`fabthread bundle verify|show|extract`: exit codes and output on real bundles."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from fabthread.bundle import pack_bundle
from fabthread.cli.main import cli

FILES = {"job.gcode": b"G28\nG1 X5 Y5\n", "report.json": b"{}\n"}
MANIFEST = {
    "order": {"order_id": "A-7"},
    "machine": {"id": "prusa_mk4", "name": "Original Prusa MK4"},
    "estimate": {"time_s": 61.0},
}


def _bundle(tmp_path: Path) -> Path:
    return Path(pack_bundle(FILES, dict(MANIFEST), tmp_path / "A-7.zip").path)


def _tampered(tmp_path: Path) -> Path:
    src, dst = _bundle(tmp_path), tmp_path / "bad.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, data.replace(b"X5", b"X6"))
    return dst


def test_verify_ok_and_failing(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(cli, ["bundle", "verify", str(_bundle(tmp_path))])
    assert good.exit_code == 0 and "ok:" in good.output and "2 files" in good.output
    bad = runner.invoke(cli, ["bundle", "verify", str(_tampered(tmp_path)), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert report["ok"] is False and report["problems"][0].startswith("job.gcode: sha256")
    missing = runner.invoke(cli, ["bundle", "verify", str(tmp_path / "none.zip")])
    assert missing.exit_code == 1 and "file not found" in missing.output


def test_show(tmp_path: Path) -> None:
    path = _bundle(tmp_path)
    runner = CliRunner()
    out = runner.invoke(cli, ["bundle", "show", str(path), "--json"])
    assert out.exit_code == 0
    manifest = json.loads(out.output)
    assert manifest["order"]["order_id"] == "A-7" and len(manifest["files"]) == 2
    human = runner.invoke(cli, ["bundle", "show", str(path)])
    assert human.exit_code == 0 and "A-7" in human.output and "job.gcode" in human.output
    (tmp_path / "junk.zip").write_bytes(b"junk")
    err = runner.invoke(cli, ["bundle", "show", str(tmp_path / "junk.zip")])
    assert err.exit_code == 2 and "not a readable zip" in err.output


def test_extract(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "job"
    res = runner.invoke(cli, ["bundle", "extract", str(_bundle(tmp_path)), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "job.gcode").read_bytes() == FILES["job.gcode"]
    refused = tmp_path / "refused"
    res = runner.invoke(cli, ["bundle", "extract", str(_tampered(tmp_path)), "-o", str(refused)])
    assert res.exit_code == 2 and "refusing" in res.output
    assert not refused.exists() or not any(refused.iterdir())
