"""A real OctoPrint with its Virtual Printer on loopback: server -> agent -> OctoPrint -> done.

OctoPrint runs from its own virtualenv (see ``octokit``); the test skips, saying why, only when
it cannot be installed. Everything is bounded by ``BUDGET_S``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path

import pytest
from hubkit import fake_manifest, make_service, order_body, shop
from octokit import OctoPrintServer, ensure_octoprint

from fabthread.hub.agent import Agent, AgentConfig
from fabthread.hub.hosts import OctoPrintHost
from fabthread.hub.server import ServerThread, create_app
from fabthread.model import Bundle, Order

pytestmark = [pytest.mark.service]
log = logging.getLogger(__name__)

BUDGET_S = 120.0
MAX_PIPELINE_LINES = 60_000  # a bigger real program would not finish within the budget
BERLIN = {"lat_deg": 52.5, "lon_deg": 13.4}


def square_program(size_mm: float = 20.0, layers: int = 3) -> tuple[bytes, float]:
    """A small real Marlin program: heat, home, purge, ``layers`` square perimeters of
    ``size_mm`` at 0.2 mm, cool down. Returns (G-code, filament grams of PLA)."""
    width, height, fil_d, density = 0.45, 0.2, 1.75, 1.24
    e_per_mm = width * height / (math.pi * (fil_d / 2) ** 2)
    lines = [
        "; fabthread integration job: 20 mm square, 3 layers",
        "M140 S60",
        "M104 S215",
        "M190 S60",
        "M109 S215",
        "G21",
        "G90",
        "M82",
        "G28",
        "G92 E0",
        "G1 Z0.3 F3000",
        "G1 X5 Y5 F6000",
        f"G1 X60 Y5 E{55 * e_per_mm:.5f} F1200",  # purge line
        "G92 E0",
    ]
    e, x0, y0 = 0.0, 90.0, 90.0
    corners = [(x0 + size_mm, y0), (x0 + size_mm, y0 + size_mm), (x0, y0 + size_mm), (x0, y0)]
    for layer in range(layers):
        z = height * (layer + 1)
        lines += [f"G1 Z{z:.2f} F600", f"G0 X{x0:.2f} Y{y0:.2f} F6000"]
        for x, y in corners:
            e += size_mm * e_per_mm
            lines.append(f"G1 X{x:.2f} Y{y:.2f} E{e:.5f} F1800")
    lines += ["G1 Z10 F600", "M104 S0", "M140 S0", "M107", "M84", ""]
    grams = e * math.pi * (fil_d / 2) ** 2 * density / 1000.0
    return "\n".join(lines).encode(), grams


def integration_builder(order: Order, out_dir: Path) -> Bundle:
    """The real pipeline when it works (and its program fits the time budget), else a bundle
    of ``square_program`` packed by ``fabthread.bundle.pack``."""
    try:
        from fabthread.pipeline import run_order

        bundle = run_order(order, out_dir)
        lines = _program_lines(bundle)
        if lines <= MAX_PIPELINE_LINES:
            integration_builder.source = "pipeline"  # type: ignore[attr-defined]
            return bundle
        reason = f"{lines} G-code lines is above {MAX_PIPELINE_LINES}"
    except Exception as exc:  # noqa: BLE001 - any failure of the unfinished pipeline
        reason = f"{type(exc).__name__}: {exc}"
    log.warning("run_order not usable (%s): hand-made program instead", reason)
    integration_builder.source = f"hand-made ({reason})"  # type: ignore[attr-defined]
    from fabthread.bundle.pack import pack_bundle

    gcode, grams = square_program()
    manifest = fake_manifest(order, time_s=20.0, filament_g=round(grams, 3))
    return pack_bundle({"job.gcode": gcode}, manifest, Path(out_dir) / f"{order.order_id}.zip")


def _program_lines(bundle: Bundle) -> int:
    import zipfile

    roles = bundle.manifest.get("files_role", {})
    name = next(n for n, r in roles.items() if r == "program")
    with zipfile.ZipFile(bundle.path) as zf:
        return zf.read(name).count(b"\n")


@pytest.fixture(scope="module")
def octoprint():
    reason = ensure_octoprint()
    if reason:
        pytest.skip(reason)
    with OctoPrintServer(start_timeout_s=60.0) as op:
        op.connect_virtual(timeout_s=30.0)
        # Moves of a real program: 10x faster than the Virtual Printer's default pace.
        op.command("M220 S1000")
        yield op


def _wait(cond, deadline: float, what: str, interval: float = 0.1):
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_agent_prints_a_bundle_on_octoprint_virtual_printer(tmp_path, db_url, octoprint):
    deadline = time.monotonic() + BUDGET_S
    service = make_service(tmp_path, db_url, lease_s=10.0, builder=integration_builder)
    host = OctoPrintHost(octoprint.url, octoprint.api_key, timeout_s=10.0)
    with ServerThread(create_app(service)) as srv, shop(srv.url, service) as c:
        token = service.store.create_token("berlin")
        body = {"order": order_body("oct-1"), "deliver_to": BERLIN}
        assert c.post("/orders", json=body).status_code == 202
        view = _wait(
            lambda: (v := c.get("/orders/oct-1").json())["status"] in ("queued", "failed") and v,
            deadline,
            "the order to be built",
        )
        assert view["status"] == "queued", view
        cfg = AgentConfig(
            server=srv.url,
            token=token,
            name="octo-agent",
            machine_id="mk4-a",
            lease_s=10.0,
            poll_s=0.2,
            idle_s=0.2,
            backoff_base_s=0.1,
            retry_for_s=30.0,
            timeout_s=10.0,
        )
        agent = Agent(cfg, host)
        thread = threading.Thread(target=agent.run, kwargs={"max_jobs": 1}, daemon=True)
        thread.start()
        try:
            view = _wait(
                lambda: (v := c.get("/orders/oct-1").json())["status"] in ("done", "failed") and v,
                deadline,
                "the print to finish",
                interval=0.2,
            )
        finally:
            agent.stop.set()
            thread.join(timeout=15)
            agent.close()
            host.close()
        events = c.get("/orders/oct-1/events").json()["events"]
        bundle_sha = view["bundle_sha256"]
    assert view["status"] == "done", (view, octoprint.log_tail())
    assert agent.completed == ["oct-1.0"]
    job_kinds = [e["kind"] for e in events if e["job_id"] == "oct-1.0"]
    assert job_kinds == ["queued", "claimed", "accepted", "printing", "done", "stock_used"], (
        job_kinds
    )
    assert all(e["bundle_sha256"] == bundle_sha for e in events if e["job_id"])
    assert {e["machine"] for e in events if e["kind"] in ("accepted", "done")} == {"mk4-a"}

    # OctoPrint printed exactly our program: same bytes, finished at 100 %.
    job = octoprint.client.get("/api/job").json()
    name = job["job"]["file"]["name"]
    assert name == "oct-1.0-1-job.gcode" and job["progress"]["completion"] == 100.0
    assert job["state"] == "Operational"
    printed = octoprint.client.get(f"/downloads/files/local/{name}").content
    from fabthread.hub.agent import verify_download

    row = service.store.get_order("oct-1")
    data = Path(row["bundle_path"]).read_bytes()
    claim = {
        "job_id": "oct-1.0",
        "order_id": "oct-1",
        "bundle": {"sha256": bundle_sha, "signature": row["signature"]},
    }
    assert printed == verify_download(data, claim, "", service.public_key).gcode
    assert printed.count(b"\nG1 ") > 10
    log.info("integration bundle: %s", getattr(integration_builder, "source", "?"))
