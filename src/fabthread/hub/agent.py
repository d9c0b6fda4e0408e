"""The hub agent: claim a job, download and verify its bundle, print it, report.

Loop: ``POST /jobs/claim`` -> ``GET`` the bundle -> verify (sha256 = claim = ETag, the server's
Ed25519 signature, safe zip entries, the bundle's own hashes) -> report ``accepted`` -> hand
the G-code to the host -> report ``printing`` -> follow the print, heartbeating the lease ->
report ``done`` or ``failed``. Network errors and 5xx are retried with exponential backoff
(capped); status reports are retried until they land (the server makes repeats harmless).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fabthread.errors import BundleError, UserError
from fabthread.hub import safezip, signing
from fabthread.hub.hosts import HostError, PrinterHost

log = logging.getLogger("fabthread.hub.agent")


class LeaseLost(UserError):
    """The server gave the job to someone else (our lease expired)."""


@dataclass
class AgentConfig:
    server: str
    token: str
    name: str = "agent"
    machine: str = ""  # machine profile id to claim for ("" = any job of the hub)
    machine_id: str = ""  # hub-local machine name, for the event log
    public_key: str = ""  # pinned base64 Ed25519 key; "" = fetch from the server at start
    lease_s: float = 60.0
    poll_s: float = 2.0
    idle_s: float = 2.0  # wait between claims when there is no work
    backoff_base_s: float = 0.2
    backoff_max_s: float = 10.0
    retry_for_s: float = 300.0  # give up on one request after this long
    cache_dir: Path | None = None
    timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    sha256: str
    gcode_name: str
    gcode: bytes
    manifest: dict[str, Any]


def verify_download(data: bytes, job: dict[str, Any], etag: str, public_key: str) -> VerifiedBundle:
    """Check downloaded bundle bytes against the claim; BundleError names what is wrong."""
    want = str(job["bundle"]["sha256"]).lower()
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise BundleError(f"bundle of {job['job_id']}: sha256 {got} does not match {want}")
    if etag and etag.strip('"').lower() != want:
        raise BundleError(f"bundle of {job['job_id']}: ETag {etag} does not match {want}")
    signing.verify(public_key, job["order_id"], want, job["bundle"]["signature"] or "")
    zf = safezip.open_safe(data)
    names = set(zf.namelist())
    manifest: dict[str, Any] = {}
    if "manifest.json" in names:
        try:
            manifest = json.loads(safezip.read_member(zf, "manifest.json", 4 * 1024 * 1024))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BundleError(f"bundle of {job['job_id']}: bad manifest.json: {exc}") from None
    _verify_contents(data, manifest, zf, job["job_id"])
    roles = manifest.get("files_role") or {}
    programs = (
        [n for n, r in roles.items() if r == "program" and n in names]
        if isinstance(roles, dict)
        else []
    )
    if not programs:
        programs = sorted(n for n in names if n.lower().endswith((".gcode", ".gco", ".nc")))
    if not programs:
        raise BundleError(f"bundle of {job['job_id']}: no G-code program inside")
    name = programs[0]
    return VerifiedBundle(want, name, safezip.read_member(zf, name), manifest)


def _verify_contents(data: bytes, manifest: dict[str, Any], zf: Any, job_id: str) -> None:
    """The bundle's own hashes: ``fabthread.bundle.verify`` when present, else a manifest
    ``files`` map of name -> sha256 checked here."""
    try:
        from fabthread.bundle.verify import verify_bundle
    except ImportError:
        verify_bundle = None  # type: ignore[assignment]
    if verify_bundle is not None:
        with tempfile.TemporaryDirectory(prefix="fabthread-agent-") as tmp:
            path = Path(tmp) / "bundle.zip"
            path.write_bytes(data)
            report = verify_bundle(path)
        if not report.ok:
            raise BundleError(f"bundle of {job_id} failed verification: {report.problems}")
        return
    files = manifest.get("files")
    if isinstance(files, dict):
        for name, entry in files.items():
            want = entry.get("sha256") if isinstance(entry, dict) else entry
            got = hashlib.sha256(safezip.read_member(zf, name)).hexdigest()
            if got != want:
                raise BundleError(f"bundle of {job_id}: {name} sha256 {got} does not match")


class Agent:
    """One agent serving one printer host. ``run()`` until ``stop`` is set."""

    def __init__(
        self,
        config: AgentConfig,
        host: PrinterHost,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.cfg = config
        self.host = host
        self.stop = threading.Event()
        self._sleep = sleep or self.stop.wait
        self.client = httpx.Client(
            base_url=config.server.rstrip("/"),
            headers={"Authorization": f"Bearer {config.token}"},
            timeout=config.timeout_s,
        )
        self.completed: list[str] = []
        self.failed: list[str] = []
        self.public_key = config.public_key

    # -- HTTP with backoff -----------------------------------------------------------------

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Retry transport errors and 5xx with capped exponential backoff and jitter."""
        deadline = time.monotonic() + self.cfg.retry_for_s
        delay = self.cfg.backoff_base_s
        while True:
            try:
                r = self.client.request(method, path, **kw)
                if r.status_code < 500:
                    return r
                problem = f"{r.status_code} {r.text[:200]}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if self.stop.is_set() or time.monotonic() + delay > deadline:
                raise UserError(f"{method} {path} failed: {problem}")
            log.warning("%s %s: %s; retrying in %.1f s", method, path, problem, delay)
            self._sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, self.cfg.backoff_max_s)

    def _report(self, job: dict[str, Any], status: str, reason: str = "") -> None:
        body = {"lease_id": job["lease_id"], "status": status, "reason": reason}
        if self.cfg.machine_id:
            body["machine"] = self.cfg.machine_id
        r = self._request("POST", f"/jobs/{job['job_id']}/status", json=body)
        if r.status_code == 409:
            raise LeaseLost(f"job {job['job_id']}: {r.json().get('error', 'lease lost')}")
        if r.status_code != 200:
            raise UserError(f"status {status} for {job['job_id']} refused: {r.text[:200]}")

    def _heartbeat(self, job: dict[str, Any]) -> None:
        r = self._request(
            "POST",
            f"/jobs/{job['job_id']}/heartbeat",
            json={"lease_id": job["lease_id"], "lease_s": self.cfg.lease_s},
        )
        if r.status_code in (404, 409):
            raise LeaseLost(f"job {job['job_id']}: lease lost")
        if r.status_code != 200:
            raise UserError(f"heartbeat for {job['job_id']} refused: {r.text[:200]}")

    # -- the loop --------------------------------------------------------------------------

    def ensure_key(self) -> None:
        if not self.public_key:
            r = self._request("GET", "/signing-key")
            r.raise_for_status()
            self.public_key = r.json()["public_key"]

    def claim(self) -> dict[str, Any] | None:
        body: dict[str, Any] = {"agent": self.cfg.name, "lease_s": self.cfg.lease_s}
        if self.cfg.machine:
            body["machine"] = self.cfg.machine
        r = self._request("POST", "/jobs/claim", json=body)
        if r.status_code == 204:
            return None
        if r.status_code != 200:
            raise UserError(f"claim refused: {r.status_code} {r.text[:200]}")
        return r.json()

    def download(self, job: dict[str, Any]) -> VerifiedBundle:
        sha = job["bundle"]["sha256"]
        cached = self.cfg.cache_dir / f"{sha}.zip" if self.cfg.cache_dir else None
        headers = {"If-None-Match": f'"{sha}"'} if cached and cached.exists() else {}
        r = self._request("GET", job["bundle"]["url"], headers=headers)
        if r.status_code == 304 and cached is not None:
            data, etag = cached.read_bytes(), r.headers.get("etag", "")
        elif r.status_code == 200:
            data, etag = r.content, r.headers.get("etag", "")
        elif r.status_code in (404, 409):
            raise LeaseLost(f"job {job['job_id']}: bundle no longer ours ({r.status_code})")
        else:
            raise UserError(f"bundle download refused: {r.status_code} {r.text[:200]}")
        bundle = verify_download(data, job, etag, self.public_key)
        if cached is not None and not cached.exists():
            from fabthread.io_atomic import write_bytes_atomic

            write_bytes_atomic(cached, data)
        return bundle

    def process(self, job: dict[str, Any]) -> str:
        """Run one claimed job to its end; returns the final status reported."""
        try:
            try:
                bundle = self.download(job)
            except BundleError as exc:
                self._report(job, "failed", f"bundle refused: {exc}")
                return "failed"
            self._report(job, "accepted")
            for run in range(int(job.get("quantity", 1))):
                name = f"{job['job_id']}-{run + 1}-{Path(bundle.gcode_name).name}"
                try:
                    self.host.start(name, bundle.gcode)
                    self._report(job, "printing")
                    outcome = self._follow(job)
                except HostError as exc:
                    outcome = f"host: {exc}"
                if outcome != "done":
                    self._report(job, "failed", outcome)
                    return "failed"
            self._report(job, "done")
            return "done"
        except LeaseLost as exc:
            log.error("%s; abandoning it", exc)
            return "lost"

    def _follow(self, job: dict[str, Any]) -> str:
        """Poll the host until the print ends, heartbeating the lease. A lost lease (say the
        network was down longer than the lease) does not stop following: the printer is
        printing anyway, and the server still takes the ``done`` if nobody re-claimed the
        job meanwhile."""
        beat_every = max(0.2, self.cfg.lease_s / 3)
        last_beat = time.monotonic()
        lease_lost = False
        while not self.stop.is_set():
            status = self.host.poll()
            if status.state == "done":
                return "done"
            if status.state == "failed":
                return status.message or "failed"
            if not lease_lost and time.monotonic() - last_beat >= beat_every:
                try:
                    self._heartbeat(job)
                except LeaseLost as exc:
                    log.warning("%s; following the print to report it late", exc)
                    lease_lost = True
                last_beat = time.monotonic()
            self._sleep(min(self.cfg.poll_s, beat_every))
        raise LeaseLost(f"job {job['job_id']}: agent stopping")

    def run_once(self) -> str | None:
        """Claim and process one job; None when there was no work."""
        self.ensure_key()
        job = self.claim()
        if job is None:
            return None
        outcome = self.process(job)
        (self.completed if outcome == "done" else self.failed).append(job["job_id"])
        return outcome

    def run(self, max_jobs: int | None = None, exit_when_idle: bool = False) -> None:
        """Serve until ``stop`` is set (or ``max_jobs`` are processed). Errors reaching the
        server are retried with backoff; the agent never exits on its own otherwise."""
        delay = self.cfg.backoff_base_s
        done = 0
        while not self.stop.is_set() and (max_jobs is None or done < max_jobs):
            try:
                outcome = self.run_once()
                delay = self.cfg.backoff_base_s
            except UserError as exc:
                log.warning("agent: %s; retrying in %.1f s", exc, delay)
                self._sleep(delay)
                delay = min(delay * 2, self.cfg.backoff_max_s)
                continue
            if outcome is None:
                if exit_when_idle:
                    return
                self._sleep(self.cfg.idle_s)
            else:
                done += 1

    def close(self) -> None:
        self.client.close()
