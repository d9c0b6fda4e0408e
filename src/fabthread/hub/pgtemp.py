"""A throwaway PostgreSQL server on a loopback port, for tests and benchmarks.

``initdb`` into a fresh temporary folder, ``postgres`` on 127.0.0.1 with fsync off; as root it
runs as the ``postgres`` user (the server refuses root). ``None`` when the binaries are absent.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path | None:
    initdb = shutil.which("initdb") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
    )
    return Path(initdb).resolve().parent if initdb else None


class TempPostgres:
    """``with TempPostgres() as pg: pg.create_database("x")`` -> a postgresql:// URL."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not installed (apt-get install postgresql)"
            )
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="fabthread-pg-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"postgresql://fab@127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._n = 0

    def __enter__(self) -> TempPostgres:
        prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            prefix = ["runuser", "-u", "postgres", "--"]
        data = self.root / "data"
        init = [
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "fab",
            "-A",
            "trust",
            "--no-sync",
        ]
        done = subprocess.run(prefix + init, capture_output=True, timeout=120)
        if done.returncode != 0:
            self.__exit__()
            raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')[-300:]}")
        args = [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port)]
        for key, value in {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.root),
            "fsync": "off",
            "max_connections": "200",
        }.items():
            args += ["-c", f"{key}={value}"]
        self.proc = subprocess.Popen(
            prefix + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(f"{self.base}/postgres", connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("PostgreSQL did not start") from None
                time.sleep(0.2)

    def create_database(self, prefix: str = "t") -> str:
        import psycopg

        self._n += 1
        name = f"{prefix}{os.getpid()}_{self._n}"
        with psycopg.connect(f"{self.base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{self.base}/{name}"

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            # SIGINT to the postmaster is PostgreSQL's "fast" shutdown: it does not wait for
            # clients to leave (SIGTERM, "smart", does). runuser does not pass SIGINT on, so
            # the postmaster's pid comes from its pid file.
            try:
                pid = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGINT)
            except (OSError, ValueError, IndexError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)
