"""The job server over HTTP on loopback: orders, claims, leases, tokens, limits."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from hubkit import order_body, shop


def _wait_status(client: httpx.Client, oid: str, statuses: set[str], timeout: float = 10) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        view = client.get(f"/orders/{oid}").json()
        if view["status"] in statuses:
            return view
        time.sleep(0.02)
    raise AssertionError(f"order {oid} stuck in {view['status']}")


def test_order_flow_end_to_end(served) -> None:
    url, service = served
    token = service.store.create_token("berlin")
    auth = {"Authorization": f"Bearer {token}"}
    with shop(url, service) as c:
        assert c.get("/openapi.json").json()["openapi"].startswith("3.")
        r = c.post(
            "/orders",
            json={"order": order_body("o-1"), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}},
        )
        assert r.status_code == 202, r.text
        view = _wait_status(c, "o-1", {"queued"})
        assert view["route"]["chosen"] == "berlin" and view["jobs"][0]["hub"] == "berlin"
        # the same order again is a no-op; the same id with another body a conflict
        assert (
            c.post(
                "/orders",
                json={"order": order_body("o-1"), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}},
            ).status_code
            == 200
        )
        assert c.post("/orders", json=order_body("o-1", color="white")).status_code == 409
        job = c.post("/jobs/claim", json={"agent": "a1"}, headers=auth)
        assert job.status_code == 200, job.text
        job = job.json()
        assert c.post("/jobs/claim", json={}, headers=auth).status_code == 204
        b = c.get(job["bundle"]["url"], headers=auth)
        assert b.status_code == 200
        assert hashlib.sha256(b.content).hexdigest() == job["bundle"]["sha256"]
        assert b.headers["etag"] == f'"{job["bundle"]["sha256"]}"'
        again = c.get(job["bundle"]["url"], headers={**auth, "If-None-Match": b.headers["etag"]})
        assert again.status_code == 304 and not again.content
        jid, lease = job["job_id"], job["lease_id"]
        hb = c.post(f"/jobs/{jid}/heartbeat", json={"lease_id": lease}, headers=auth)
        assert hb.status_code == 200
        for status in ("accepted", "printing", "printing", "done", "done"):
            r = c.post(
                f"/jobs/{jid}/status",
                json={"lease_id": lease, "status": status, "machine": "mk4-a"},
                headers=auth,
            )
            assert r.status_code == 200, r.text
        r = c.post(
            f"/jobs/{jid}/status", json={"lease_id": lease, "status": "printing"}, headers=auth
        )
        assert r.status_code == 409
        assert c.get("/orders/o-1").json()["status"] == "done"
        events = c.get("/orders/o-1/events").json()["events"]
        kinds = [e["kind"] for e in events]
        assert kinds.count("done") == 1 and kinds.count("printing") == 1  # idempotent repeats
        assert all(e["bundle_sha256"] == job["bundle"]["sha256"] for e in events[2:])
        assert [e["kind"] for e in events[:3]] == ["received", "building", "built"]
        assert any(e["machine"] == "mk4-a" for e in events)
        status = c.get("/status").json()
        assert {h["id"] for h in status["hubs"]} >= {"berlin", "munich"}


def test_hub_sees_only_its_jobs_and_tokens_are_checked(served) -> None:
    url, service = served
    berlin = {"Authorization": f"Bearer {service.store.create_token('berlin')}"}
    munich = {"Authorization": f"Bearer {service.store.create_token('munich')}"}
    with shop(url, service) as c:
        c.post(
            "/orders",
            json={"order": order_body("o-2"), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}},
        )
        _wait_status(c, "o-2", {"queued"})
        assert c.post("/jobs/claim", json={}, headers=munich).status_code == 204
        for bad in (
            {},
            {"Authorization": "Bearer nope"},
            {"Authorization": berlin["Authorization"] + "x"},
            {"Authorization": "Basic abc"},
        ):
            assert c.post("/jobs/claim", json={}, headers=bad).status_code == 401
        job = c.post("/jobs/claim", json={}, headers=berlin).json()
        jid = job["job_id"]
        # Munich cannot see, download or report Berlin's job
        assert c.get(f"/jobs/{jid}/bundle", headers=munich).status_code == 404
        r = c.post(
            f"/jobs/{jid}/status",
            json={"lease_id": job["lease_id"], "status": "done"},
            headers=munich,
        )
        assert r.status_code == 404
        assert c.get(f"/orders/{'o-2'}").json()["jobs"][0]["status"] == "leased"


def test_bad_requests_are_4xx_without_side_effects(served) -> None:
    url, service = served
    auth = {"Authorization": f"Bearer {service.store.create_token('berlin')}"}
    with shop(url, service) as c:
        before = c.get("/status").json()
        cases = [
            c.post("/orders", content=b"{not json", headers={"content-type": "application/json"}),
            c.post("/orders", json=[1, 2]),
            c.post("/orders", json={"order_id": "x"}),
            c.post("/orders", json=order_body("../etc")),
            c.post("/orders", json={**order_body("o-3"), "quantity": 0}),
            c.post("/orders", json={"order": order_body("o-3"), "deliver_to": {"lat_deg": 99}}),
            c.post("/orders", json={"order": order_body("o-3"), "extra": 1}),
            c.post("/orders", content=b"x" * 300_000),
            c.post("/jobs/claim", json={"lease_s": -5}, headers=auth),
            c.post("/jobs/claim", json={"lease_s": "long"}, headers=auth),
            c.post("/jobs/nope/status", json={"lease_id": "x", "status": "done"}, headers=auth),
            c.post("/jobs/nope/status", json={"status": "done"}, headers=auth),
            c.post("/jobs/nope/heartbeat", json={"lease_id": "x"}, headers=auth),
            c.get("/jobs/nope/bundle", headers=auth),
            c.get("/orders/unknown"),
        ]
        codes = [r.status_code for r in cases]
        assert all(400 <= code < 500 for code in codes), codes
        assert codes[7] == 413
        assert all("error" in r.json() for r in cases)
        after = c.get("/status").json()
        assert after["orders"] == before["orders"] == []
        assert after["order_counts"] == {}


def test_chunked_upload_over_the_limit_is_413(served) -> None:
    url, service = served

    def chunks():
        for _ in range(100):
            yield b"x" * 4096

    with shop(url, service) as c:
        r = c.post("/orders", content=chunks())
        assert r.status_code == 413


def test_failed_job_moves_to_the_next_hub(served) -> None:
    url, service = served
    tokens = {
        h: {"Authorization": f"Bearer {service.store.create_token(h)}"}
        for h in ("berlin", "munich")
    }
    with shop(url, service) as c:
        c.post(
            "/orders",
            json={"order": order_body("o-4"), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}},
        )
        view = _wait_status(c, "o-4", {"queued"})
        assert view["route"]["failover"] == ["berlin", "munich"]
        job = c.post("/jobs/claim", json={}, headers=tokens["berlin"]).json()
        r = c.post(
            f"/jobs/{job['job_id']}/status",
            json={"lease_id": job["lease_id"], "status": "failed", "reason": "nozzle clog"},
            headers=tokens["berlin"],
        )
        assert r.status_code == 200 and r.json()["status"] == "queued"
        job2 = c.post("/jobs/claim", json={}, headers=tokens["munich"]).json()
        assert job2["job_id"] == job["job_id"]
        c.post(
            f"/jobs/{job2['job_id']}/status",
            json={"lease_id": job2["lease_id"], "status": "failed", "reason": "again"},
            headers=tokens["munich"],
        )
        view = c.get("/orders/o-4").json()
        assert view["status"] == "failed" and view["jobs"][0]["reason"] == "again"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unroutable_and_unbuildable_orders(served) -> None:
    url, service = served
    with shop(url, service) as c:
        c.post("/orders", json=order_body("o-5", color="purple"))
        view = _wait_status(c, "o-5", {"rejected"})
        assert view["jobs"] == []
        assert c.get("/orders/o-5/events").json()["events"][-1]["status"] == "rejected"
