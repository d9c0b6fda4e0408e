"""Printer hosts the agent hands G-code to: OctoPrint, Moonraker (Klipper) or a watch folder.

Every host has ``start(filename, gcode)`` (upload and start printing) and ``poll()`` which
returns a ``HostStatus``: ``printing``, ``done`` or ``failed`` with a message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import httpx

from fabthread.errors import UserError
from fabthread.io_atomic import write_bytes_atomic

PrintState = Literal["printing", "done", "failed"]


@dataclass(frozen=True, slots=True)
class HostStatus:
    state: PrintState
    progress_pct: float | None = None
    message: str = ""


class HostError(UserError):
    """The printer host refused or could not be reached (the agent reports the job failed)."""


class PrinterHost(Protocol):
    name: str

    def start(self, filename: str, gcode: bytes) -> None: ...

    def poll(self) -> HostStatus: ...


def safe_filename(name: str) -> str:
    """A file name a host accepts: letters, digits, '.', '_', '-' only."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return clean[:120] or "job.gcode"


class OctoPrintHost:
    """OctoPrint REST: ``POST /api/files/local`` with ``print=true`` and ``X-Api-Key``, then
    ``GET /api/job`` until the printer is operational again with the file at 100 %."""

    name = "octoprint"

    def __init__(self, url: str, api_key: str, timeout_s: float = 30.0) -> None:
        self.client = httpx.Client(
            base_url=url.rstrip("/"), headers={"X-Api-Key": api_key}, timeout=timeout_s
        )
        self.filename = ""
        self.seen_printing = False

    def start(self, filename: str, gcode: bytes) -> None:
        self.filename = safe_filename(filename)
        self.seen_printing = False
        try:
            r = self.client.post(
                "/api/files/local",
                files={"file": (self.filename, gcode, "application/octet-stream")},
                data={"select": "true", "print": "true"},
            )
        except httpx.HTTPError as exc:
            raise HostError(f"OctoPrint upload failed: {exc}") from None
        if r.status_code not in (200, 201):
            raise HostError(f"OctoPrint refused the upload: {r.status_code} {r.text[:200]}")

    def poll(self) -> HostStatus:
        try:
            r = self.client.get("/api/job")
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise HostError(f"OctoPrint job status failed: {exc}") from None
        state = str(data.get("state", ""))
        progress = (data.get("progress") or {}).get("completion")
        current = ((data.get("job") or {}).get("file") or {}).get("name") or ""
        if state.startswith("Error") or state.startswith("Offline"):
            return HostStatus("failed", progress, f"OctoPrint: {state}")
        if state in ("Printing", "Pausing", "Paused", "Resuming", "Finishing", "Starting"):
            self.seen_printing = True
            return HostStatus("printing", progress, state)
        if state == "Operational" and current == self.filename:
            if progress is not None and progress >= 100.0:
                return HostStatus("done", 100.0, "finished")
            if self.seen_printing:
                return HostStatus("failed", progress, "print was cancelled")
        return HostStatus("printing", progress, state or "waiting")

    def close(self) -> None:
        self.client.close()


class MoonrakerHost:
    """Moonraker (Klipper): ``POST /server/files/upload`` with ``print=true``, then
    ``GET /printer/objects/query?print_stats`` until ``complete`` (or error, cancelled)."""

    name = "moonraker"

    def __init__(self, url: str, api_key: str = "", timeout_s: float = 30.0) -> None:
        headers = {"X-Api-Key": api_key} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.filename = ""

    def start(self, filename: str, gcode: bytes) -> None:
        self.filename = safe_filename(filename)
        try:
            r = self.client.post(
                "/server/files/upload",
                files={"file": (self.filename, gcode, "application/octet-stream")},
                data={"root": "gcodes", "print": "true"},
            )
        except httpx.HTTPError as exc:
            raise HostError(f"Moonraker upload failed: {exc}") from None
        if r.status_code not in (200, 201):
            raise HostError(f"Moonraker refused the upload: {r.status_code} {r.text[:200]}")
        try:
            result = r.json().get("result", {})
        except ValueError:
            result = {}
        # Moonraker says whether the print began or went to its job queue; neither means the
        # file was stored but nothing will print it (polling would wait forever).
        if isinstance(result, dict) and "print_started" in result:
            if not (result.get("print_started") or result.get("print_queued")):
                raise HostError(f"Moonraker stored {self.filename} but did not start the print")

    def poll(self) -> HostStatus:
        try:
            r = self.client.get("/printer/objects/query", params={"print_stats": ""})
            r.raise_for_status()
            stats = r.json()["result"]["status"]["print_stats"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise HostError(f"Moonraker status failed: {exc}") from None
        state = stats.get("state", "")
        same = os.path.basename(str(stats.get("filename", ""))) == self.filename
        if same and state == "complete":
            return HostStatus("done", 100.0, "complete")
        if same and state in ("error", "cancelled"):
            return HostStatus(
                "failed", None, f"Klipper: {state} {stats.get('message', '')}".strip()
            )
        return HostStatus("printing", None, state or "waiting")

    def close(self) -> None:
        self.client.close()


class FolderHost:
    """A watch folder: the G-code is written (atomically) into ``folder``. The machine side
    writes ``<name>.done`` when finished or ``<name>.failed`` (its text is the reason). With
    ``done_on_write`` the job is done as soon as the file is delivered."""

    name = "folder"

    def __init__(self, folder: str | Path, done_on_write: bool = False) -> None:
        self.folder = Path(folder)
        self.done_on_write = done_on_write
        self.filename = ""

    def start(self, filename: str, gcode: bytes) -> None:
        self.filename = safe_filename(filename)
        try:
            write_bytes_atomic(self.folder / self.filename, gcode)
        except OSError as exc:
            raise HostError(f"cannot write to watch folder {self.folder}: {exc}") from None

    def poll(self) -> HostStatus:
        if self.done_on_write:
            return HostStatus("done", 100.0, "delivered")
        base = self.folder / self.filename
        failed = base.with_name(base.name + ".failed")
        if failed.exists():
            reason = failed.read_text(encoding="utf-8", errors="replace").strip()[:300]
            return HostStatus("failed", None, reason or "failed")
        if base.with_name(base.name + ".done").exists():
            return HostStatus("done", 100.0, "done marker")
        return HostStatus("printing", None, "waiting for done marker")

    def close(self) -> None:
        pass
