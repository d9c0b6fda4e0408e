"""The server process killed (SIGKILL) and restarted loses no order and no status."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from hubkit import fast_agent, order_body, shop, wait_orders

HERE = Path(__file__).resolve().parent


def _start(db: str, var: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    args = [
        "hub",
        "serve",
        "--db",
        db,
        "--port",
        str(port),
        "--var",
        str(var),
        "--lease",
        "2",
        "--builder",
        "hubkit:fake_builder",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from fabthread.cli.main import main; main()", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.05)


def test_server_kill_and_restart_loses_nothing(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db, var, url = f"sqlite:///{tmp_path}/fab.db", tmp_path / "var", f"http://127.0.0.1:{port}"
    tok, shop_tok = (
        subprocess.run(
            [sys.executable, "-c", "from fabthread.cli.main import main; main()", "hub", "token"]
            + args
            + ["--db", db],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for args in (["berlin"], ["--client", "shop"])
    )
    assert tok.startswith("fth_") and shop_tok.startswith("ftc_")
    server = _start(db, var, port)
    ids = [f"r-{i}" for i in range(12)]
    agent = fast_agent(url, tok, "survivor", lease_s=2.0)
    thread = threading.Thread(target=agent.run, daemon=True)
    try:
        with shop(url, shop_tok) as c:
            for oid in ids[:6]:
                body = {"order": order_body(oid), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}}
                assert c.post("/orders", json=body).status_code == 202
            thread.start()
            wait_orders(c, ids[:2], timeout=20)
        server.send_signal(signal.SIGKILL)  # mid-stream: no clean shutdown
        server.wait(timeout=10)
        time.sleep(0.5)  # the agent hits connection errors and backs off meanwhile
        server = _start(db, var, port)
        with shop(url, shop_tok) as c:
            for oid in ids[6:]:
                body = {"order": order_body(oid), "deliver_to": {"lat_deg": 52.5, "lon_deg": 13.4}}
                assert c.post("/orders", json=body).status_code == 202
            views = wait_orders(c, ids, timeout=40)
            events = {oid: c.get(f"/orders/{oid}/events").json()["events"] for oid in ids}
    finally:
        agent.stop.set()
        thread.join(timeout=10)
        agent.close()
        server.terminate()
        server.wait(timeout=10)
    assert all(v["status"] == "done" for v in views.values())
    for oid, evs in events.items():
        kinds = [e["kind"] for e in evs]
        assert kinds[0] == "received" and kinds.count("done") == 1, (oid, kinds)
    assert sorted(set(agent.completed)) == sorted(f"{oid}.0" for oid in ids)
