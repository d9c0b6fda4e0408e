"""MoonrakerHost end to end against a fake Moonraker on loopback: server -> agent -> Klipper."""

from __future__ import annotations

import pytest
from fakemoonraker import FakeKlipper, create_fake_moonraker
from hubkit import GCODE, fast_agent, make_service, order_body, shop, wait_orders

from fabthread.hub.hosts import HostError, MoonrakerHost
from fabthread.hub.server import ServerThread, create_app

pytestmark = pytest.mark.service
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

BERLIN = {"lat_deg": 52.5, "lon_deg": 13.4}


def _voron_order(oid: str) -> dict:
    return {"order": order_body(oid, machine="voron24_350"), "deliver_to": BERLIN}


@sqlite_only
def test_agent_prints_through_moonraker(tmp_path, db_url) -> None:
    klipper = FakeKlipper(api_key="moon-key", lines_per_poll=2)
    service = make_service(tmp_path, db_url, lease_s=10.0)
    with (
        ServerThread(create_fake_moonraker(klipper)) as moon,
        ServerThread(create_app(service)) as srv,
        shop(srv.url, service) as c,
    ):
        token = service.store.create_token("berlin")
        assert c.post("/orders", json=_voron_order("m-1")).status_code == 202
        wait_orders(c, ["m-1"], statuses=("queued",), timeout=10)
        host = MoonrakerHost(moon.url, api_key="moon-key", timeout_s=5.0)
        agent = fast_agent(
            srv.url, token, "klipper-agent", host=host, machine="voron24_350", machine_id="voron-1"
        )
        try:
            assert agent.run_once() == "done"
        finally:
            agent.close()
            host.close()
        view = c.get("/orders/m-1").json()
        events = c.get("/orders/m-1/events").json()["events"]
    assert view["status"] == "done"
    assert klipper.uploads == [{"name": "m-1.0-1-job.gcode", "root": "gcodes", "print": "True"}]
    assert klipper.files["m-1.0-1-job.gcode"] == GCODE  # the verified program, byte for byte
    assert klipper.state == "complete" and klipper.done_lines == GCODE.count(b"\n")
    assert klipper.polls >= 3  # followed the print, not just the upload
    kinds = [e["kind"] for e in events if e["job_id"] == "m-1.0"]
    assert kinds == ["queued", "claimed", "accepted", "printing", "done", "stock_used"]
    assert {e["machine"] for e in events if e["kind"] == "done"} == {"voron-1"}


@sqlite_only
def test_klipper_error_fails_the_job_over_to_the_next_hub(tmp_path, db_url) -> None:
    klipper = FakeKlipper(lines_per_poll=1, fail_after_lines=2)
    service = make_service(tmp_path, db_url, lease_s=10.0)
    with (
        ServerThread(create_fake_moonraker(klipper)) as moon,
        ServerThread(create_app(service)) as srv,
        shop(srv.url, service) as c,
    ):
        token = service.store.create_token("berlin")
        assert c.post("/orders", json=_voron_order("m-2")).status_code == 202
        view = wait_orders(c, ["m-2"], statuses=("queued",), timeout=10)["m-2"]
        assert view["route"]["failover"][:2] == ["berlin", "hamburg"]
        host = MoonrakerHost(moon.url)
        agent = fast_agent(srv.url, token, "klipper-agent", host=host)
        try:
            assert agent.run_once() == "failed"
        finally:
            agent.close()
            host.close()
        view = c.get("/orders/m-2").json()
        events = c.get("/orders/m-2/events").json()["events"]
    failed = [e for e in events if e["kind"] == "failed"]
    assert len(failed) == 1 and "Move out of range" in failed[0]["detail"]["reason"]
    assert failed[0]["detail"]["reason"].startswith("Klipper: error")
    assert view["jobs"][0]["hub"] == "hamburg" and view["jobs"][0]["status"] == "queued"


def test_moonraker_refusals_are_host_errors(tmp_path) -> None:
    klipper = FakeKlipper(api_key="right")
    with ServerThread(create_fake_moonraker(klipper)) as moon:
        wrong = MoonrakerHost(moon.url, api_key="wrong", timeout_s=5.0)
        with pytest.raises(HostError, match="401"):
            wrong.start("a.gcode", b"G28\n")
        with pytest.raises(HostError, match="status failed"):
            wrong.poll()
        wrong.close()
        host = MoonrakerHost(moon.url, api_key="right", timeout_s=5.0)
        host.start("a.gcode", b"G28\nG1 X1\nG1 X2\nG1 X3\nG1 X4\nG1 X5\nG1 X6\n")
        assert host.poll().state == "printing"
        with pytest.raises(HostError, match="busy"):  # a second print while one runs
            host.start("b.gcode", b"G28\n")
        host.close()
    unreachable = MoonrakerHost(moon.url, timeout_s=1.0)  # the fake is stopped now
    with pytest.raises(HostError, match="upload failed"):
        unreachable.start("c.gcode", b"G28\n")
    unreachable.close()
