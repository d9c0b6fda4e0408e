"""Operating the network: client tokens, stock that runs down, paused hubs, late reports."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner
from hubkit import make_service, order_body, shop

from fabthread.hub.store import Conflict, Store

BERLIN = (52.5, 13.4)
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _order(service, oid: str, **kw) -> dict:
    """Submit and build an order in this thread; its view."""
    order = order_body(oid, **kw)
    order.setdefault("quantity", 1)
    from fabthread.hub.service import parse_submission

    canonical, dest = parse_submission(
        {"order": order, "deliver_to": dict(zip(("lat_deg", "lon_deg"), BERLIN, strict=True))}
    )
    service.store.submit_order(canonical, dest)
    service.build_now(oid)
    return service.order_view(oid)


def _stock(store: Store, hub: str, material: str, color: str) -> dict:
    [row] = [r for r in store.stock(hub) if (r["material"], r["color"]) == (material, color)]
    return row


# -- order-system authentication -----------------------------------------------------------


@sqlite_only  # PostgreSQL sees client tokens in every test_server test
def test_order_endpoints_need_a_client_token_and_clients_are_apart(served) -> None:
    url, service = served
    hub_token = service.store.create_token("berlin")
    body = {"order": order_body("c-1"), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}}
    with httpx.Client(base_url=url, timeout=10) as anon:
        for headers in (
            {},
            {"Authorization": f"Bearer {hub_token}"},
            {"Authorization": "Bearer x"},
        ):
            assert anon.post("/orders", json=body, headers=headers).status_code == 401
            assert anon.get("/orders", headers=headers).status_code == 401
            assert anon.get("/status", headers=headers).status_code == 401
        assert anon.get("/health").status_code == 200
    with shop(url, service, "shop-a") as a, shop(url, service, "shop-b") as b:
        assert a.post("/orders", json=body).status_code == 202
        assert a.post("/orders", json=body).status_code == 200  # idempotent for its owner
        assert b.post("/orders", json=body).status_code == 409  # the id is someone else's
        assert b.get("/orders/c-1").status_code == 404  # b must not learn a's orders
        assert b.get("/orders/c-1/events").status_code == 404
        assert a.get("/orders/c-1").status_code == 200
        assert [o["order_id"] for o in a.get("/orders").json()["orders"]] == ["c-1"]
        assert b.get("/orders").json()["orders"] == []
        assert b.get("/status").json()["orders"] == []
        assert a.get("/orders", params={"limit": 0}).status_code == 400
    # hashed like hub tokens: the secret is nowhere in the database
    token = service.store.create_client_token("shop-c")
    rows = service.store.db
    with rows.tx() as tx:
        stored = tx.rows("SELECT * FROM client_tokens")
    assert token.split("_", 2)[2] not in json.dumps(stored)
    assert service.store.client_for_token(token) == "shop-c"
    assert service.store.client_for_token(token + "x") is None
    assert service.store.hub_for_token(token) is None  # the kinds do not mix


# -- stock ---------------------------------------------------------------------------------


@sqlite_only
def test_stock_is_committed_reserved_and_consumed_and_the_router_honours_it(
    tmp_path, db_url
) -> None:
    service = make_service(tmp_path, db_url)  # fake bundles: 5 g of filament per unit
    store = service.store
    try:
        # Only Berlin has white PLA (1000 g): 150 units take 750 g of it.
        view = _order(service, "s-1", color="white", quantity=150)
        assert view["status"] == "queued" and view["jobs"][0]["hub"] == "berlin"
        row = _stock(store, "berlin", "pla", "white")
        assert (row["grams"], row["queued_g"], row["available_g"]) == (1000.0, 750.0, 250.0)
        # 60 more units (300 g) no longer fit: the router sees 250 g, not the file's 1000 g.
        view = _order(service, "s-2", color="white", quantity=60)
        assert view["status"] == "rejected", view
        route = json.loads(store.get_order("s-2")["route"])
        berlin = next(h for h in route["hubs"] if h["hub"] == "berlin")
        assert "250 g in stock, 300 g needed" in berlin["reason"]
        job = store.claim("berlin", "a1", 60.0)
        row = _stock(store, "berlin", "pla", "white")
        assert (row["reserved_g"], row["queued_g"], row["grams"]) == (750.0, 0.0, 1000.0)
        assert store.events("s-1")[-2]["detail"]["reserved_g"] == 750.0
        for status in ("accepted", "printing", "done", "done"):
            store.report("berlin", job["job_id"], job["lease_id"], status)
        row = _stock(store, "berlin", "pla", "white")
        assert (row["grams"], row["reserved_g"], row["available_g"]) == (250.0, 0.0, 250.0)
        used = [e for e in store.events("s-1") if e["kind"] == "stock_used"]
        assert len(used) == 1 and used[0]["detail"]["left_g"] == 250.0  # repeats count once
        # A restart (hub files synced again) keeps the count; a changed declaration resets it.
        store.sync_hubs(service.config.hubs)
        assert _stock(store, "berlin", "pla", "white")["grams"] == 250.0
        from dataclasses import replace

        from fabthread.model.hub import Stock

        hubs = [
            replace(h, stock=(Stock("pla", "white", 5000.0),)) if h.id == "berlin" else h
            for h in service.config.hubs
        ]
        store.sync_hubs(hubs)
        assert _stock(store, "berlin", "pla", "white")["grams"] == 5000.0
    finally:
        service.close()


@sqlite_only
def test_a_failed_job_moves_its_filament_to_the_next_hub(tmp_path, db_url) -> None:
    service = make_service(tmp_path, db_url)
    store = service.store
    try:
        view = _order(service, "s-3", quantity=10)  # black PLA: Berlin, then Munich
        assert view["route"]["failover"][:2] == ["berlin", "munich"]
        job = store.claim("berlin", "a1", 60.0)
        store.report("berlin", job["job_id"], job["lease_id"], "failed", "clog")
        assert _stock(store, "berlin", "pla", "black")["available_g"] == 2000.0
        munich = _stock(store, "munich", "pla", "black")
        assert munich["queued_g"] == 50.0 and munich["available_g"] == munich["grams"] - 50.0
    finally:
        service.close()


# -- pause and resume ----------------------------------------------------------------------


@sqlite_only
def test_paused_hub_is_skipped_by_the_router_and_gets_no_claims(tmp_path, db_url) -> None:
    service = make_service(tmp_path, db_url)
    store = service.store
    try:
        assert _order(service, "p-1")["jobs"][0]["hub"] == "berlin"
        store.set_paused("berlin", True, "nozzle change")
        assert store.hub_states()["berlin"] == "paused"
        assert store.claim("berlin", "a1", 60.0) is None  # queued work waits
        view = _order(service, "p-2")
        assert view["jobs"][0]["hub"] == "munich" and "berlin" not in view["route"]["failover"]
        route = json.loads(store.get_order("p-2")["route"])
        assert next(h for h in route["hubs"] if h["hub"] == "berlin")["reason"] == "hub is paused"
        store.sync_hubs(service.config.hubs)  # a restart does not un-pause
        assert store.hub_states()["berlin"] == "paused"
        hub = next(h for h in store.summary()["hubs"] if h["id"] == "berlin")
        assert hub["state"] == "paused" and hub["paused_reason"] == "nozzle change"
        store.set_paused("berlin", False)
        assert store.claim("berlin", "a1", 60.0)["job_id"] == "p-1.0"
        assert _order(service, "p-3")["jobs"][0]["hub"] == "berlin"
        assert store.hub_states()["leipzig"] == "paused"  # paused in its file: stays so
    finally:
        service.close()


def test_cli_tokens_pause_and_resume(tmp_path) -> None:
    from fabthread.cli.main import cli

    db = f"sqlite:///{tmp_path}/fab.db"
    run = CliRunner().invoke
    r = run(cli, ["hub", "pause", "munich", "--reason", "holiday", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {
        "hub": "munich",
        "paused": True,
        "state": "paused",
        "reason": "holiday",
    }
    r = run(cli, ["hub", "status", "--db", db])
    assert "paused (holiday)" in r.output
    r = run(cli, ["hub", "resume", "munich", "--db", db, "--json"])
    assert json.loads(r.output)["state"] == "online"
    assert run(cli, ["hub", "pause", "atlantis", "--db", db]).exit_code == 2
    r = run(cli, ["hub", "token", "--client", "webshop", "--db", db])
    assert r.exit_code == 0 and r.output.startswith("ftc_")
    store = Store(db)
    assert store.client_for_token(r.output.strip()) == "webshop"
    store.close()
    assert run(cli, ["hub", "token", "--db", db]).exit_code == 2  # neither hub nor client
    assert run(cli, ["hub", "token", "--client", "bad name!", "--db", db]).exit_code == 2


# -- late reports --------------------------------------------------------------------------


@sqlite_only
def test_late_done_is_accepted_when_nobody_reclaimed_the_job(tmp_path, db_url) -> None:
    clock = Clock()
    service = make_service(tmp_path, db_url)
    store = service.store
    store.clock = clock
    try:
        _order(service, "l-1")
        _order(service, "l-2")
        first = store.claim("berlin", "slow-agent", 10.0)
        store.report("berlin", first["job_id"], first["lease_id"], "printing")
        clock.t += 11  # the agent lost its network; the lease expired
        assert store.requeue_expired() == 1
        job = store.report("berlin", first["job_id"], first["lease_id"], "done")
        assert job["status"] == "done"
        again = store.report("berlin", first["job_id"], first["lease_id"], "done")
        assert again["status"] == "done"  # idempotent
        events = store.events("l-1")
        done = [e for e in events if e["kind"] == "done"]
        assert len(done) == 1 and done[0]["detail"]["late"] is True
        assert done[0]["agent"] == "slow-agent"
        assert store.get_order("l-1")["status"] == "done"
        assert [e["kind"] for e in events].count("stock_used") == 1
        assert store.claim("berlin", "other", 10.0)["job_id"] == "l-2.0"  # not l-1 again

        # Re-claimed by someone else meanwhile: the late report is refused.
        _order(service, "l-3")
        lost = store.claim("berlin", "late-agent", 10.0)
        assert lost["job_id"] == "l-3.0"
        clock.t += 11
        store.requeue_expired()  # l-2 and l-3 go back to the queue
        claimed = [store.claim("berlin", "rescuer", 10.0)["job_id"] for _ in range(2)]
        assert sorted(claimed) == ["l-2.0", "l-3.0"]
        with pytest.raises(Conflict):
            store.report("berlin", lost["job_id"], lost["lease_id"], "done")
        assert store.get_order("l-3")["jobs"][0]["status"] == "leased"
        # and a late "failed" or "printing" is never taken
        _order(service, "l-4")
        gone = store.claim("berlin", "a", 10.0)
        clock.t += 11
        store.requeue_expired()
        for status in ("printing", "failed"):
            with pytest.raises(Conflict):
                store.report("berlin", gone["job_id"], gone["lease_id"], status)
    finally:
        service.close()


@sqlite_only
def test_agent_that_lost_its_lease_reports_done_late(tmp_path, db_url, caplog) -> None:
    """The network is down longer than the lease while the printer prints: the lease expires,
    nobody else claims the job, the agent reports done afterwards and the server takes it."""
    import threading
    import time

    from hubkit import FakeHost, fast_agent

    from fabthread.hub.server import ServerThread, create_app

    service = make_service(tmp_path, db_url, lease_s=1.0)  # sweeps every 0.5 s
    with ServerThread(create_app(service)) as srv, shop(srv.url, service) as c:
        token = service.store.create_token("berlin")
        body = {"order": order_body("late-1"), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}}
        assert c.post("/orders", json=body).status_code == 202
        end = time.monotonic() + 10
        while c.get("/orders/late-1").json()["status"] != "queued":
            assert time.monotonic() < end
            time.sleep(0.02)
        released = threading.Event()

        class SlowHost(FakeHost):
            def poll(self):  # done only once the server has taken the lease back
                return super().poll() if released.is_set() else self._printing()

            def _printing(self):
                from fabthread.hub.hosts import HostStatus

                return HostStatus("printing", 50.0, "printing")

        agent = fast_agent(srv.url, token, "offline-agent", host=SlowHost(), lease_s=1.0)
        real_heartbeat, outage = agent._heartbeat, threading.Event()
        outage.set()
        # heartbeats get lost during the outage; after it the server answers 409 (lease gone)
        agent._heartbeat = lambda job: None if outage.is_set() else real_heartbeat(job)
        thread = threading.Thread(target=agent.run_once, daemon=True)
        thread.start()
        while not any(
            e["kind"] == "lease_expired" for e in c.get("/orders/late-1/events").json()["events"]
        ):
            assert time.monotonic() < end, "lease never expired"
            time.sleep(0.05)
        outage.clear()
        time.sleep(0.6)  # a heartbeat gets its 409: the agent keeps following the print
        released.set()
        thread.join(timeout=10)
        agent.close()
        view = c.get("/orders/late-1").json()
        events = c.get("/orders/late-1/events").json()["events"]
    assert view["status"] == "done" and view["jobs"][0]["attempts"] == 1
    done = [e for e in events if e["kind"] == "done"]
    assert len(done) == 1 and done[0]["detail"].get("late") is True
    assert done[0]["agent"] == "offline-agent"
    assert "following the print to report it late" in caplog.text
