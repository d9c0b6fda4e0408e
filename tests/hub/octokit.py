"""A throwaway OctoPrint with its bundled Virtual Printer on a loopback port (service tests).

OctoPrint lives in its own virtualenv (``.venv-octoprint``, made by
``scripts/ensure-octoprint.sh``): its pins clash with the project's. ``OctoPrintServer`` writes
a fresh ``--basedir`` with a ``config.yaml`` (JSON is YAML) and a ``users.yaml`` holding one
admin user with an API key, so no wizard runs and nothing needs a browser. Everything that
would reach outside is off: online check, plugin blacklist, Python EOL check, and the plugins
that phone home or broadcast (software update, plugin manager, announcements, tracking, error
tracking, discovery/zeroconf, backup, achievements, health check). The server binds to
127.0.0.1 only.

The Virtual Printer is made fast: no resends or busy messages, and it starts hot (ambient
230 °C), so ``M109 S``/``M190 S`` return at once instead of simulating a 20 s heat-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-octoprint"
OCTOPRINT = VENV / "bin" / "octoprint"

# Bundled plugins that talk to the internet or the LAN, or do work a test does not need.
DISABLED_PLUGINS = [
    "achievements",
    "announcements",
    "backup",
    "discovery",
    "errortracking",
    "health_check",
    "pluginmanager",
    "softwareupdate",
    "tracking",
    "firmware_check",
]


def ensure_octoprint(timeout_s: float = 900.0) -> str:
    """ "" when OctoPrint is usable, else the reason it is not (after trying the script)."""
    if _works():
        return ""
    script = ROOT / "scripts" / "ensure-octoprint.sh"
    try:
        proc = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"scripts/ensure-octoprint.sh did not finish: {exc}"
    if proc.returncode != 0 or not _works():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"OctoPrint cannot be installed into {VENV}: {' | '.join(tail)}"
    return ""


def _works() -> bool:
    py = VENV / "bin" / "python"
    if not (OCTOPRINT.exists() and py.exists()):
        return False
    try:
        return (
            subprocess.run(
                [str(py), "-c", "import octoprint"], capture_output=True, timeout=60
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_basedir(basedir: Path, api_key: str) -> None:
    """config.yaml and users.yaml for a ready-to-use, offline OctoPrint."""
    config = {
        "server": {
            "host": "127.0.0.1",
            "firstRun": False,
            "secretKey": secrets.token_hex(16),
            "onlineCheck": {"enabled": False},
            "pluginBlacklist": {"enabled": False},
            "pythonEolCheck": {"enabled": False},
            "ipCheck": {"enabled": False},
            "seenWizards": {"corewizard": 4, "tracking": None, "backup": None},
        },
        "accessControl": {"salt": secrets.token_hex(16)},
        "api": {"allowCrossOrigin": False},
        "serial": {
            "autoconnect": False,
            "additionalPorts": [],
            "log": False,
            "timeout": {"communication": 10.0, "connection": 5.0, "detection": 1.0},
        },
        "gcodeAnalysis": {"runAt": "never"},
        "plugins": {
            "_disabled": DISABLED_PLUGINS,
            "virtual_printer": {
                "enabled": True,
                "okAfterResend": False,
                "forceChecksum": False,
                "resend_ratio": 0,
                "sendBusy": False,
                "simulateReset": False,
                "brokenResend": False,
                "ambientTemperature": 230.0,
                "waitInterval": 0.5,
            },
            "tracking": {"enabled": False},
            "announcements": {"enabled_channels": []},
            "softwareupdate": {"check_overlay_url": "", "notify_users": False},
            "pluginmanager": {"repository": "", "notices": "", "ignore_throttled": True},
        },
    }
    users = {
        "_version": 2,
        "fab": {
            # No password can match this: the test authenticates with the API key only.
            "password": "!" + secrets.token_hex(32),
            "active": True,
            "groups": ["admins", "users"],
            "permissions": [],
            "apikey": api_key,
            "settings": {},
        },
    }
    basedir.mkdir(parents=True, exist_ok=True)
    (basedir / "config.yaml").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (basedir / "users.yaml").write_text(json.dumps(users, indent=2), encoding="utf-8")


class OctoPrintServer:
    """``with OctoPrintServer() as op:`` a running OctoPrint; ``op.url``, ``op.api_key``,
    ``op.client`` (httpx with the key). ``connect_virtual()`` attaches the Virtual Printer."""

    def __init__(self, start_timeout_s: float = 60.0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fabthread-octoprint-"))
        self.basedir = self.root / "base"
        self.api_key = secrets.token_hex(16).upper()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(
            base_url=self.url, headers={"X-Api-Key": self.api_key}, timeout=10.0
        )

    def __enter__(self) -> OctoPrintServer:
        write_basedir(self.basedir, self.api_key)
        args = [
            str(OCTOPRINT),
            "serve",
            "--basedir",
            str(self.basedir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if os.geteuid() == 0:
            args.append("--iknowwhatimdoing")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["HOME"] = str(self.root)  # nothing lands in the real home (pip caches, ~/.octoprint)
        self._log = open(self.root / "stdout.log", "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            self._wait_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_up(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"OctoPrint exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                r = self.client.get("/api/version", timeout=2.0)
                if r.status_code == 200:
                    return
                if r.status_code in (401, 403):
                    raise RuntimeError(f"OctoPrint refused the API key: {r.text[:200]}")
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"OctoPrint not up after {self.start_timeout_s:g} s: {self.log_tail()}"
                )
            time.sleep(0.2)

    def connect_virtual(self, timeout_s: float = 30.0) -> dict:
        """Connect to port VIRTUAL over the REST API and wait until it is Operational."""
        r = self.client.get("/api/connection")
        r.raise_for_status()
        ports = r.json()["options"]["ports"]
        if "VIRTUAL" not in ports:
            raise RuntimeError(f"no VIRTUAL port (virtual printer plugin off?): {ports}")
        r = self.client.post(
            "/api/connection",
            json={
                "command": "connect",
                "port": "VIRTUAL",
                "baudrate": 115200,
                "autoconnect": False,
            },
        )
        if r.status_code != 204:
            raise RuntimeError(f"connect refused: {r.status_code} {r.text[:200]}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.client.get("/api/connection").json()["current"]
            if state.get("state") == "Operational":
                return state
            time.sleep(0.1)
        raise RuntimeError(f"printer not Operational after {timeout_s:g} s: {state}")

    def command(self, *lines: str) -> None:
        """Send G-code lines to the printer (``POST /api/printer/command``)."""
        r = self.client.post("/api/printer/command", json={"commands": list(lines)})
        if r.status_code != 204:
            raise RuntimeError(f"command refused: {r.status_code} {r.text[:200]}")

    def log_tail(self, n: int = 20) -> str:
        paths = [self.root / "stdout.log", self.basedir / "logs" / "octoprint.log"]
        lines: list[str] = []
        for p in paths:
            with contextlib.suppress(OSError):
                lines += p.read_text(errors="replace").splitlines()[-n:]
        return "\n".join(lines[-n:])

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None) is not None:
            self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)
