"""Agents against a live server: verification, exactly-once under concurrency, lease expiry."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hubkit import (
    GCODE,
    FakeHost,
    fake_builder,
    fast_agent,
    make_service,
    order_body,
    shop,
    wait_orders,
)

from fabthread.errors import BundleError
from fabthread.hub import safezip, signing
from fabthread.hub.agent import verify_download
from fabthread.hub.hosts import FolderHost
from fabthread.hub.server import ServerThread, create_app

MACHINE_OF = {"berlin": "prusa_mk4", "munich": "prusa_mk4", "hamburg": "duet3_corexy"}
PLACES = {
    "berlin": {"lat_deg": 52.5, "lon_deg": 13.4},
    "munich": {"lat_deg": 48.1, "lon_deg": 11.6},
    "hamburg": {"lat_deg": 53.55, "lon_deg": 9.97},
}


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../evil.gcode", "a/../../b", "C:\\x.gcode", "a\\..\\b", ""]
)
def test_unsafe_zip_entries_are_refused(name: str) -> None:
    with pytest.raises(BundleError):
        safezip.check_member_name(name)
    if name:
        with pytest.raises(BundleError):
            safezip.open_safe(_zip({name: b"G28\n"}))


def test_safe_zip_is_accepted_and_bombs_refused() -> None:
    data = _zip({"manifest.json": b"{}", "sub/job.gcode": b"G28\n"})
    assert safezip.open_safe(data).namelist() == ["manifest.json", "sub/job.gcode"]
    with pytest.raises(BundleError):
        safezip.open_safe(_zip({"big.gcode": b"0" * 10_000}), max_total_bytes=1000)
    with pytest.raises(BundleError):
        safezip.open_safe(b"not a zip")


def test_verify_download_checks_hash_signature_and_order(tmp_path) -> None:
    key = signing.load_or_create_key(tmp_path)
    pub = signing.public_key_b64(key)
    from fabthread.model import order_from_dict

    order = order_from_dict(order_body("o"))
    data = Path(fake_builder(order, tmp_path).path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    job = {
        "job_id": "o.0",
        "order_id": "o",
        "bundle": {"sha256": sha, "signature": signing.sign(key, "o", sha)},
    }
    ok = verify_download(data, job, f'"{sha}"', pub)
    assert ok.gcode == GCODE and ok.gcode_name == "job.gcode"
    with pytest.raises(BundleError, match="sha256"):
        verify_download(data + b"x", job, "", pub)
    other = signing.public_key_b64(signing.load_or_create_key(tmp_path / "other"))
    with pytest.raises(BundleError, match="signature"):
        verify_download(data, job, "", other)
    replay = {**job, "order_id": "another"}  # a valid bundle signed for another order
    with pytest.raises(BundleError, match="signature"):
        verify_download(data, replay, "", pub)
    evil = _zip({"../job.gcode": b"G28\n"})
    esha = hashlib.sha256(evil).hexdigest()
    ejob = {**job, "bundle": {"sha256": esha, "signature": signing.sign(key, "o", esha)}}
    with pytest.raises(BundleError, match=r"'\.\.'"):
        verify_download(evil, ejob, "", pub)


def test_folder_host(tmp_path) -> None:
    host = FolderHost(tmp_path)
    host.start("o.0-1-job.gcode", b"G28\n")
    assert (tmp_path / "o.0-1-job.gcode").read_bytes() == b"G28\n"
    assert host.poll().state == "printing"
    (tmp_path / "o.0-1-job.gcode.failed").write_text("bed adhesion")
    assert host.poll().state == "failed" and host.poll().message == "bed adhesion"
    host.start("../x y.gcode", b"G28\n")
    assert host.filename == "_x_y.gcode" and (tmp_path / host.filename).exists()
    (tmp_path / "_x_y.gcode.done").touch()
    assert host.poll().state == "done"


def _run_agents(agents) -> list[threading.Thread]:
    threads = [threading.Thread(target=a.run, daemon=True) for a in agents]
    for t in threads:
        t.start()
    return threads


def _stop(agents, threads) -> None:
    for a in agents:
        a.stop.set()
    for t in threads:
        t.join(timeout=15)
        assert not t.is_alive()
    for a in agents:
        a.close()


def exactly_once(url: str, service, n_agents: int, n_jobs: int) -> None:
    hubs = list(PLACES)
    tokens = {h: service.store.create_token(h) for h in hubs}
    agents = [fast_agent(url, tokens[hubs[i % len(hubs)]], f"agent-{i}") for i in range(n_agents)]
    threads = _run_agents(agents)
    ids = [f"ord-{i:04d}" for i in range(n_jobs)]
    try:
        with shop(url, service) as c:
            for i, oid in enumerate(ids):
                hub = hubs[i % len(hubs)]
                body = {"order": order_body(oid, MACHINE_OF[hub]), "deliver_to": PLACES[hub]}
                assert c.post("/orders", json=body).status_code == 202
            wait_orders(c, ids, timeout=30 + n_jobs * 0.2)
            events = {oid: c.get(f"/orders/{oid}/events").json()["events"] for oid in ids}
    finally:
        _stop(agents, threads)
    completed = [j for a in agents for j in a.completed]
    assert sorted(completed) == sorted(f"{oid}.0" for oid in ids)  # each once, none twice
    assert not [j for a in agents for j in a.failed]
    for oid, evs in events.items():
        kinds = Counter(e["kind"] for e in evs)
        assert kinds["done"] == 1 and kinds["claimed"] == 1, (oid, kinds)
    assert len(
        {h for evs in events.values() for e in evs if e["kind"] == "done" for h in [e["hub_id"]]}
    ) == len(hubs)


def test_concurrent_agents_complete_every_job_exactly_once(served) -> None:
    url, service = served
    exactly_once(url, service, n_agents=6, n_jobs=30)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_20_agents_500_jobs_exactly_once(served) -> None:
    url, service = served
    exactly_once(url, service, n_agents=20, n_jobs=500)


def test_killed_agent_job_is_released_and_done_elsewhere(tmp_path, db_url) -> None:
    service = make_service(tmp_path, db_url, lease_s=1.0)
    with ServerThread(create_app(service)) as srv, shop(srv.url, service) as c:
        t1, t2 = (service.store.create_token("berlin") for _ in range(2))
        dying = fast_agent(srv.url, t1, "dying", host=FakeHost(hang=True), lease_s=1.0)
        body = {"order": order_body("o-kill"), "deliver_to": PLACES["berlin"]}
        assert c.post("/orders", json=body).status_code == 202
        wait_orders(c, ["o-kill"], statuses=("queued",), timeout=10)
        [th] = _run_agents([dying])
        end = time.monotonic() + 10
        while c.get("/orders/o-kill").json()["jobs"][0]["status"] != "printing":
            assert time.monotonic() < end
            time.sleep(0.02)
        dying.stop.set()  # the agent dies mid-print: no more heartbeats, no report
        th.join(timeout=5)
        rescuer = fast_agent(srv.url, t2, "rescuer", lease_s=1.0)
        threads = _run_agents([rescuer])
        try:
            view = wait_orders(c, ["o-kill"], timeout=15)["o-kill"]
        finally:
            _stop([rescuer], threads)
        dying.close()
        events = c.get("/orders/o-kill/events").json()["events"]
    kinds = [(e["kind"], e["agent"]) for e in events if e["job_id"]]
    assert ("lease_expired", "dying") in kinds
    assert ("done", "rescuer") in kinds and ("done", "dying") not in kinds
    assert view["jobs"][0]["attempts"] == 2 and rescuer.completed == ["o-kill.0"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_agent_refuses_a_tampered_bundle(tmp_path, db_url) -> None:
    service = make_service(tmp_path, db_url, lease_s=30.0)
    with ServerThread(create_app(service)) as srv, shop(srv.url, service) as c:
        token = service.store.create_token("berlin")
        c.post("/orders", json={"order": order_body("o-bad"), "deliver_to": PLACES["berlin"]})
        view = wait_orders(c, ["o-bad"], statuses=("queued",), timeout=10)["o-bad"]
        path = service.store.get_order("o-bad")["bundle_path"]
        with open(path, "ab") as fh:  # tampered on the server's disk after signing
            fh.write(b"evil")
        host = FakeHost()
        agent = fast_agent(srv.url, token, "careful", host=host)
        assert agent.run_once() == "failed"
        agent.close()
        assert host.started == []  # nothing reached the printer
        view = c.get("/orders/o-bad").json()
        assert view["jobs"][0]["hub"] == "munich"  # failed over to the next hub
        events = c.get("/orders/o-bad/events").json()["events"]
        assert any("bundle refused" in e["detail"].get("reason", "") for e in events)
