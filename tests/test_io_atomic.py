"""All-or-nothing writes: the target appears whole or not at all, with the usual mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fabthread.io_atomic import atomic_open, write_text_atomic


def test_write_replaces_whole_with_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "part.gcode"
    old = os.umask(0o027)
    try:
        write_text_atomic(target, "G1 X1\n")
    finally:
        os.umask(old)
    assert target.read_text() == "G1 X1\n"
    assert target.stat().st_mode & 0o777 == 0o640
    write_text_atomic(target, "G1 X2\n")
    assert target.read_text() == "G1 X2\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["part.gcode"]


def test_failure_leaves_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "part.gcode"
    target.write_text("before\n")
    with pytest.raises(RuntimeError, match="half way"):
        with atomic_open(target, "w") as fh:
            fh.write("half a program")
            raise RuntimeError("half way")
    assert target.read_text() == "before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part.gcode"]

