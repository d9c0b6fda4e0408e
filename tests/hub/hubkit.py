"""Helpers for the hub tests: a fake bundle builder, orders, services."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

from fabthread.hub.registry import load_network
from fabthread.hub.service import HubService, ServiceConfig
from fabthread.model import Bundle, Order
from fabthread.model.hub import MachineSpec

SPECS = {
    "prusa_mk4": MachineSpec("prusa_mk4", "fdm", 250, 210, 220),
    "voron24_350": MachineSpec("voron24_350", "fdm", 350, 350, 340),
    "duet3_corexy": MachineSpec("duet3_corexy", "fdm", 300, 300, 300),
}
GCODE = b"; fabthread test job\nG28\nG1 X10 Y10 Z0.2 F3000\nG1 X20 E1\nM84\n"


def fake_manifest(order: Order, time_s: float = 600.0, filament_g: float = 5.0) -> dict:
    return {
        "order": {
            "order_id": order.order_id,
            "design": order.design,
            "machine": order.machine,
            "material": order.material,
            "color": order.color,
            "quantity": order.quantity,
            "params": dict(order.params),
            "preset": order.preset,
            "settings": dict(order.settings),
        },
        "design": {"name": order.design, "source_sha256": "d" * 64},
        "params": dict(order.params),
        "part": {"size_mm": [40.0, 30.0, 10.0]},
        "machine": {"id": order.machine, "process": "fdm"},
        "material": {"id": order.material},
        "color": {"name": order.color, "hex": "#000000"},
        "quantity": {"ordered": order.quantity, "per_run": 1, "runs": order.quantity},
        "estimate": {"time_s": time_s, "filament_g": filament_g},
        "files_role": {"job.gcode": "program"},
    }


def fake_builder(order: Order, out_dir: Path) -> Bundle:
    """A small real bundle: fabthread.bundle.pack if it exists, else a zip made here."""
    manifest = fake_manifest(order)
    out = Path(out_dir) / f"{order.order_id}.zip"
    try:
        from fabthread.bundle.pack import pack_bundle
    except ImportError:
        pack_bundle = None
    if pack_bundle is not None:
        return pack_bundle({"job.gcode": GCODE}, manifest, out)
    manifest["files"] = {"job.gcode": hashlib.sha256(GCODE).hexdigest()}
    text = json.dumps(manifest, sort_keys=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr("manifest.json", text)
        zf.writestr("job.gcode", GCODE)
    os.replace(tmp, out)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    return Bundle(path=str(out), sha256=sha, order_id=order.order_id, manifest_json=text)


def order_body(oid: str, machine: str = "prusa_mk4", color: str = "black", **kw) -> dict:
    return {
        "order_id": oid,
        "design": "wall_bracket",
        "machine": machine,
        "material": "pla",
        "color": color,
        **kw,
    }


def make_service(tmp_path: Path, db_url: str, **kw) -> HubService:
    cfg = ServiceConfig(
        db_url=db_url,
        var_dir=tmp_path / "var",
        hubs=load_network(),
        machines=SPECS,
        builder=kw.pop("builder", fake_builder),
        **kw,
    )
    return HubService(cfg)


class FakeHost:
    """A printer host that finishes after ``polls`` polls (or hangs when ``hang``)."""

    name = "fake"

    def __init__(self, polls: int = 1, hang: bool = False, fail: str = "") -> None:
        self.polls, self.hang, self.fail = polls, hang, fail
        self.started: list[str] = []
        self._left = 0

    def start(self, filename: str, gcode: bytes) -> None:
        assert gcode.startswith(b"; fabthread test job") or b"G1" in gcode
        self.started.append(filename)
        self._left = self.polls

    def poll(self):
        from fabthread.hub.hosts import HostStatus

        if self.hang:
            return HostStatus("printing", None, "hanging")
        self._left -= 1
        if self._left > 0:
            return HostStatus("printing", 50.0, "printing")
        if self.fail:
            return HostStatus("failed", None, self.fail)
        return HostStatus("done", 100.0, "done")


def shop(url: str, service_or_token, name: str = "shop", timeout: float = 30.0):
    """An httpx client of an order system: a client token (made in the service's store, or
    given as a string) on every request. Hub calls override the header per request."""
    import httpx

    token = (
        service_or_token
        if isinstance(service_or_token, str)
        else service_or_token.store.create_client_token(name)
    )
    return httpx.Client(base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {token}"})


def fast_agent(url: str, token: str, name: str, host=None, **kw):
    from fabthread.hub.agent import Agent, AgentConfig

    cfg = AgentConfig(
        server=url,
        token=token,
        name=name,
        poll_s=0.01,
        idle_s=0.02,
        backoff_base_s=0.05,
        backoff_max_s=0.5,
        retry_for_s=30.0,
        **kw,
    )
    return Agent(cfg, host or FakeHost())


def wait_orders(client, order_ids, statuses=("done",), timeout: float = 60.0) -> dict:
    import time

    end = time.monotonic() + timeout
    views: dict = {}
    while time.monotonic() < end:
        views = {oid: client.get(f"/orders/{oid}").json() for oid in order_ids}
        if all(v.get("status") in statuses for v in views.values()):
            return views
        time.sleep(0.1)
    stuck = {k: v.get("status") for k, v in views.items() if v.get("status") not in statuses}
    raise AssertionError(f"orders not {statuses}: {stuck}")
