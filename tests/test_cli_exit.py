"""The console entry point's quick exit keeps every byte of output and the exit codes."""

from __future__ import annotations

import subprocess
import sys

ENTRY = "from fabthread.cli.main import main; main()"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, timeout=120
    )


def test_quick_exit_flushes_all_output_to_a_pipe() -> None:
    # piped stdout is block-buffered: without the flush before os._exit it would be lost
    done = run("profile", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 5 and "prusa_mk4" in done.stdout
    again = run("profile", "list")
    assert again.stdout == done.stdout


def test_failures_keep_their_exit_codes() -> None:
    bad = run("slice", "no-such-mesh.stl", "-m", "prusa_mk4", "-M", "pla", "-o", "x.gcode")
    assert bad.returncode == 2 and "no such file" in bad.stderr
    assert run("no-such-command").returncode == 2
