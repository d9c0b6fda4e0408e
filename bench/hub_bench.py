"""Job claims per second and claim latency with N concurrent agents.

The job server runs as its own process (`fabthread hub serve`, as in production) on a free
loopback port; the queue is filled through the store beforehand; N agent threads loop
claim -> report done until the queue is empty. Every job must be claimed exactly once.

    .venv/bin/python bench/hub_bench.py                  # SQLite, and PostgreSQL if installed
    .venv/bin/python bench/hub_bench.py --agents 20 --jobs 2000 --json
    .venv/bin/python bench/hub_bench.py --compare --no-postgres   # SQLite before/after fixes
    .venv/bin/python bench/hub_bench.py --compare --direct --rounds 3 --no-postgres

``--compare`` runs SQLite twice: "before" is the server as it was (SQLite's polling busy handler
alone, every request's token checked in the database: ``FABTHREAD_SQLITE_WRITE_LOCK=0``,
``FABTHREAD_TOKEN_CACHE_S=0``), "after" with the in-process writer lock and the token cache;
alternating ``--rounds`` times so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from fabthread.bundle.pack import pack_bundle
from fabthread.hub.pgtemp import TempPostgres, find_bindir
from fabthread.hub.registry import load_network
from fabthread.hub.store import Store

HUBS = ("berlin", "munich", "hamburg")
_BEFORE = {"FABTHREAD_SQLITE_WRITE_LOCK": "0", "FABTHREAD_TOKEN_CACHE_S": "0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefill(db_url: str, var: Path, jobs: int) -> dict[str, str]:
    """Queue ``jobs`` jobs spread over the hubs; return a token per hub."""
    store = Store(db_url)
    store.sync_hubs(load_network())
    manifest = {"order": {"order_id": "bench"}, "machine": {"id": "prusa_mk4"}}
    bundle = pack_bundle({"job.gcode": b"G28\n"}, manifest, var / "bench.zip")
    for i in range(jobs):
        oid = f"b{i:06d}"
        order = {
            "order_id": oid,
            "design": "bench",
            "machine": "prusa_mk4",
            "material": "pla",
            "color": "black",
            "quantity": 1,
            "params": {},
            "preset": "",
            "settings": {},
        }
        store.submit_order(order, None)
        store.order_built(
            oid,
            bundle_sha256=bundle.sha256,
            bundle_path=bundle.path,
            bundle_size=1,
            signature="",
            design_hash="",
            route={},
            jobs=[(HUBS[i % len(HUBS)], "prusa_mk4", 1, 60.0, [])],
        )
    tokens = {h: store.create_token(h) for h in HUBS}
    store.close()
    return tokens


def run(
    db_url: str, agents: int, jobs: int, env: dict[str, str] | None = None, label: str = ""
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fabthread-bench-") as tmp:
        var = Path(tmp)
        tokens = prefill(db_url, var, jobs)
        port = _free_port()
        args = [
            "hub",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            "--var",
            str(var),
            "--lease",
            "300",
        ]
        server = subprocess.Popen(
            [sys.executable, "-c", "from fabthread.cli.main import main; main()", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/health", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.1)
            latencies: list[float] = []
            claimed: list[str] = []
            lock = threading.Lock()

            def agent(i: int) -> None:
                headers = {"Authorization": f"Bearer {tokens[HUBS[i % len(HUBS)]]}"}
                mine, got = [], []
                with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
                    while True:
                        t0 = time.perf_counter()
                        r = c.post("/jobs/claim", json={"agent": f"bench-{i}"})
                        mine.append(time.perf_counter() - t0)
                        if r.status_code == 204:
                            break
                        job = r.json()
                        got.append(job["job_id"])
                        c.post(
                            f"/jobs/{job['job_id']}/status",
                            json={"lease_id": job["lease_id"], "status": "done"},
                        )
                with lock:
                    latencies.extend(mine)
                    claimed.extend(got)

            threads = [threading.Thread(target=agent, args=(i,)) for i in range(agents)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert len(claimed) == len(set(claimed)) == jobs, "a job was lost or claimed twice"
    return _stats(db_url, agents, jobs, wall, latencies, label)


def run_direct(
    db_url: str, agents: int, jobs: int, env: dict[str, str] | None = None, label: str = ""
) -> dict[str, object]:
    """The same claim -> done loop on the store itself, in threads of this process (no HTTP):
    what the database layer alone adds to a claim."""
    with tempfile.TemporaryDirectory(prefix="fabthread-bench-") as tmp:
        prefill(db_url, Path(tmp), jobs)
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            store = Store(db_url)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        latencies: list[float] = []
        claimed: list[str] = []
        lock = threading.Lock()

        def agent(i: int) -> None:
            hub, mine, got = HUBS[i % len(HUBS)], [], []
            while True:
                t0 = time.perf_counter()
                job = store.claim(hub, f"bench-{i}", 300.0)
                mine.append(time.perf_counter() - t0)
                if job is None:
                    break
                got.append(job["job_id"])
                store.report(hub, job["job_id"], job["lease_id"], "done")
            with lock:
                latencies.extend(mine)
                claimed.extend(got)

        threads = [threading.Thread(target=agent, args=(i,)) for i in range(agents)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        store.close()
    assert len(claimed) == len(set(claimed)) == jobs, "a job was lost or claimed twice"
    return _stats(db_url, agents, jobs, wall, latencies, label, mode="direct")


def _stats(
    db_url: str,
    agents: int,
    jobs: int,
    wall: float,
    latencies: list[float],
    label: str,
    mode: str = "http",
) -> dict[str, object]:
    lat = sorted(latencies)
    return {
        "db": db_url.split(":")[0],
        "mode": mode,
        **({"variant": label} if label else {}),
        "agents": agents,
        "jobs": jobs,
        "wall_s": round(wall, 2),
        "claims_per_s": round(jobs / wall, 1),
        "claim_p50_ms": round(statistics.median(lat) * 1000, 2),
        "claim_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
        "claim_max_ms": round(lat[-1] * 1000, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--compare", action="store_true", help="SQLite before/after the latency fixes")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of --compare")
    ap.add_argument(
        "--direct", action="store_true", help="also run the loop on the store (no HTTP)"
    )
    args = ap.parse_args()
    results = []
    variants = [("before", _BEFORE), ("after", {})] * args.rounds if args.compare else [("", {})]
    for label, env in variants:
        with tempfile.TemporaryDirectory(prefix="fabthread-bench-db-") as tmp:
            results.append(run(f"sqlite:///{tmp}/bench.db", args.agents, args.jobs, env, label))
    for label, env in variants if args.direct else []:
        with tempfile.TemporaryDirectory(prefix="fabthread-bench-db-") as tmp:
            db = f"sqlite:///{tmp}/bench.db"
            results.append(run_direct(db, args.agents, args.jobs, env, label))
    if not args.no_postgres and find_bindir() is not None:
        with TempPostgres() as pg:
            results.append(run(pg.create_database("bench"), args.agents, args.jobs))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(" ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
