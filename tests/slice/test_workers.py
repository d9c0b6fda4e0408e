"""fork_map: results in order from forked children, errors raised here, nothing left behind."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from fabthread.errors import InternalError
from fabthread.slice.workers import can_fork, fork_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

PARENT = os.getpid()


def _square_slowly(x: int) -> tuple[int, int]:
    time.sleep(0.002 * (x % 3))  # uneven items finish out of order
    return x * x, os.getpid()


def test_results_come_in_order_from_this_process_and_its_children() -> None:
    out = list(fork_map(_square_slowly, list(range(40)), 3))
    assert [v for v, _ in out] == [x * x for x in range(40)]
    pids = {pid for _, pid in out}
    assert os.getpid() in pids and 1 < len(pids) <= 3  # this one takes its share


def _bytes_slowly_here(n: int) -> tuple[bytes, int]:
    if os.getpid() == PARENT:
        time.sleep(0.05)  # the child sends results while this process is busy
    return b"x" * n, os.getpid()


def test_large_results_pass_while_this_process_works() -> None:
    sizes = [3_000_000, 10, 2_000_000, 5_000_000, 1, 4_000_000]
    out = list(fork_map(_bytes_slowly_here, sizes, 2))
    assert [len(b) for b, _ in out] == sizes
    assert {pid for _, pid in out} - {PARENT}  # a child sent some of them


def _fail_on_five_in_a_child(x: int) -> int:
    if os.getpid() == PARENT:
        time.sleep(0.02)  # leave the children most items
    elif x % 10 == 5:
        raise ValueError(f"bad item {x}")
    return x


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids fork_map forks (to check they are reaped)."""
    pids: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


def test_a_childs_exception_is_raised_here_with_its_traceback(forked: list[int]) -> None:
    with pytest.raises(ValueError, match=r"bad item \d*5") as info:
        list(fork_map(_fail_on_five_in_a_child, list(range(30)), 3))
    assert any("in a slicing worker process" in note for note in info.value.__notes__)
    _reaped(forked)


def _die_in_a_child(x: int) -> int:
    if os.getpid() == PARENT:
        time.sleep(0.02)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_child_that_dies_is_an_internal_error(forked: list[int]) -> None:
    with pytest.raises(InternalError, match="unsent"):
        list(fork_map(_die_in_a_child, list(range(20)), 3))
    _reaped(forked)


def _fail_here(x: int) -> int:
    if os.getpid() == PARENT:
        raise ValueError("bad item here")
    time.sleep(0.01)
    return x


def test_an_exception_here_reaps_the_children(forked: list[int]) -> None:
    with pytest.raises(ValueError, match="bad item here"):
        list(fork_map(_fail_here, list(range(20)), 3))
    _reaped(forked)


def test_runs_here_with_one_worker_or_other_threads() -> None:
    assert [v for v, pid in fork_map(_square_slowly, [1, 2], 1) if pid == os.getpid()] == [1, 4]
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not can_fork()
        out = list(fork_map(_square_slowly, [1, 2, 3], 2))
        assert {pid for _, pid in out} == {os.getpid()}
    finally:
        stop.set()
        t.join()


def test_stopping_early_reaps_the_children(forked: list[int]) -> None:
    it = fork_map(_square_slowly, list(range(50)), 3)
    assert next(it)[0] == 0
    it.close()  # the caller stops reading (an exception upstream, Ctrl-C)
    _reaped(forked)


def _reaped(pids: list[int]) -> None:
    assert len(pids) == 2  # three workers: this process and two children
    for pid in pids:
        with pytest.raises(ChildProcessError):  # no such child (any more)
            os.waitpid(pid, os.WNOHANG)
