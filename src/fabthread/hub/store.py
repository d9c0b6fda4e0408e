"""The job store: orders, jobs with leases, hub tokens and the per-order event log.

Job states::

    queued --claim--> leased --> accepted --> printing --> done
                        |           |            |
                        +-----------+------------+--> failed  (rerouted to the next hub of
                        |                                      the failover list if any)
                        +-- lease expired --> queued (same hub, another agent)

Order states: received -> building -> queued -> in_progress -> done | failed; rejected when no
hub can make it. Every change appends a row to ``events``. Status reports are idempotent: the
same status from the same lease again is a no-op. Claims are atomic: one job goes to exactly
one lease. A ``done`` that arrives after its lease expired is still accepted when nobody else
claimed the job meanwhile (the print did happen); it is logged as late.

Stock: the ``stock`` table holds the grams left per (hub, material, color). A job commits its
grams (``filament_g`` x quantity, from the bundle's estimate) while it is queued or running at
a hub (``available_stock`` subtracts them, so the router does not promise the same filament
twice), reserves them when claimed, and consumes them from the hub's stock when done. The hub
files declare the stock; a declared value that changes (a new spool) resets the count.

Hubs can be paused at run time (``set_paused``): the router skips them and their agents get
no new jobs; leases already held run to their end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from fabthread.errors import OrderError
from fabthread.hub.db import Database, Row, Tx
from fabthread.model.hub import Hub

log = logging.getLogger("fabthread.hub.store")

TOKEN_CACHE_S = 10.0
JOB_ACTIVE = ("leased", "accepted", "printing")
JOB_OPEN = ("queued", *JOB_ACTIVE)  # jobs whose filament is committed at their hub
JOB_REPORTABLE = ("accepted", "printing", "done", "failed")
_ORDER_OF_JOB = {"queued": 0, "leased": 1, "accepted": 2, "printing": 3, "done": 4, "failed": 4}


class NotFound(OrderError):
    """An order or job that does not exist (or that this hub may not see)."""


class Conflict(OrderError):
    """A request that contradicts the current state (lease lost, bad transition, other body)."""


_CLIENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _hash_secret(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


class Store:
    """Domain operations over a ``Database``. ``clock()`` gives epoch seconds (injectable)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.db = Database(url)
        self.clock = clock
        self._token_cache: dict[tuple[str, bytes], tuple[str, float]] = {}
        self.token_cache_s = float(os.environ.get("FABTHREAD_TOKEN_CACHE_S", TOKEN_CACHE_S))

    def close(self) -> None:
        self.db.close()

    # -- hubs and tokens -------------------------------------------------------------------

    def sync_hubs(self, hubs: Sequence[Hub]) -> None:
        """Insert or update the hubs of the network (state, location, machines, stock)."""
        now = self.clock()
        with self.db.tx(write=True) as tx:
            for h in hubs:
                data = json.dumps(
                    {
                        "machines": [{"id": m.id, "profile": m.profile} for m in h.machines],
                        "stock": [
                            {"material": s.material, "color": s.color, "grams": s.grams}
                            for s in h.stock
                        ],
                        "backlog_h": h.backlog_h,
                    },
                    sort_keys=True,
                )
                args = (h.name, h.state, h.lat_deg, h.lon_deg, data, now, h.id)
                if not tx.run(
                    "UPDATE hubs SET name=?, state=?, lat_deg=?, lon_deg=?, data=?, updated_at=?"
                    " WHERE id=?",
                    args,
                ):
                    tx.run(
                        "INSERT INTO hubs (name, state, lat_deg, lon_deg, data, updated_at, id)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        args,
                    )
                self._sync_stock(tx, h, now)

    def _sync_stock(self, tx: Tx, hub: Hub, now: float) -> None:
        """Declared grams per (material, color) from the hub file. A declaration seen before
        keeps the counted stock; a changed one (restocked, re-weighed) replaces it."""
        declared: dict[tuple[str, str], float] = {}
        for s in hub.stock:
            key = (s.material, s.color)
            declared[key] = declared.get(key, 0.0) + s.grams
        rows = tx.rows(
            "SELECT material, color, declared_grams FROM stock WHERE hub_id=?", (hub.id,)
        )
        known = {(r["material"], r["color"]): r["declared_grams"] for r in rows}
        for (material, color), grams in sorted(declared.items()):
            before = known.get((material, color))
            if before is None:
                tx.run(
                    "INSERT INTO stock (hub_id, material, color, grams, declared_grams,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (hub.id, material, color, grams, grams, now),
                )
            elif abs(before - grams) > 1e-9:
                tx.run(
                    "UPDATE stock SET grams=?, declared_grams=?, updated_at=?"
                    " WHERE hub_id=? AND material=? AND color=?",
                    (grams, grams, now, hub.id, material, color),
                )
        for material, color in set(known) - set(declared):
            tx.run(
                "DELETE FROM stock WHERE hub_id=? AND material=? AND color=?",
                (hub.id, material, color),
            )

    def hubs(self) -> list[Row]:
        with self.db.tx() as tx:
            return tx.rows("SELECT * FROM hubs ORDER BY id")

    def set_paused(self, hub_id: str, paused: bool, reason: str = "") -> Row:
        """Pause (no new routes, no new claims) or resume a hub; survives restarts and hub
        file syncs. Returns the hub row."""
        with self.db.tx(write=True) as tx:
            n = tx.run(
                "UPDATE hubs SET paused=?, paused_reason=?, updated_at=? WHERE id=?",
                (1 if paused else 0, (reason or None) if paused else None, self.clock(), hub_id),
            )
            if n != 1:
                raise NotFound(f"unknown hub '{hub_id}'")
            return tx.one("SELECT * FROM hubs WHERE id=?", (hub_id,)) or {}

    def hub_states(self) -> dict[str, str]:
        """Effective state per hub id: the hub file's state, or ``paused`` when paused at run
        time."""
        with self.db.tx() as tx:
            rows = tx.rows("SELECT id, state, paused FROM hubs")
        return {
            r["id"]: "paused" if r["paused"] and r["state"] == "online" else r["state"]
            for r in rows
        }

    def available_stock(self) -> dict[str, dict[tuple[str, str], float]]:
        """Grams per hub and (material, color) that new work may still use: the stock left
        minus what open jobs (queued or running) at that hub will take."""
        with self.db.tx() as tx:
            stock = tx.rows("SELECT hub_id, material, color, grams FROM stock")
            committed = tx.rows(
                "SELECT hub_id, material, color, SUM(filament_g * quantity) AS g FROM jobs"
                " WHERE status IN ('queued', 'leased', 'accepted', 'printing')"
                " GROUP BY hub_id, material, color"
            )
        out: dict[str, dict[tuple[str, str], float]] = {}
        for r in stock:
            out.setdefault(r["hub_id"], {})[(r["material"], r["color"])] = float(r["grams"])
        for c in committed:
            per_hub = out.setdefault(c["hub_id"], {})
            key = (c["material"], c["color"])
            if key in per_hub:
                per_hub[key] = per_hub[key] - float(c["g"] or 0.0)
        return out

    def stock(self, hub_id: str | None = None) -> list[Row]:
        """Stock rows (grams left) with the grams reserved by running jobs and committed by
        queued ones."""
        where, args = ("WHERE hub_id=?", (hub_id,)) if hub_id else ("", ())
        with self.db.tx() as tx:
            rows = tx.rows(
                f"SELECT hub_id, material, color, grams, declared_grams FROM stock {where}"
                " ORDER BY hub_id, material, color",
                args,
            )
            jobs = tx.rows(
                "SELECT hub_id, material, color, status, SUM(filament_g * quantity) AS g"
                " FROM jobs WHERE status IN ('queued', 'leased', 'accepted', 'printing')"
                + (" AND hub_id=?" if hub_id else "")
                + " GROUP BY hub_id, material, color, status",
                args,
            )
        use: dict[tuple[str, str, str], dict[str, float]] = {}
        for j in jobs:
            kind = "queued_g" if j["status"] == "queued" else "reserved_g"
            slot = use.setdefault((j["hub_id"], j["material"], j["color"]), {})
            slot[kind] = slot.get(kind, 0.0) + float(j["g"] or 0.0)
        for r in rows:
            slot = use.get((r["hub_id"], r["material"], r["color"]), {})
            r["reserved_g"] = round(slot.get("reserved_g", 0.0), 3)
            r["queued_g"] = round(slot.get("queued_g", 0.0), 3)
            r["available_g"] = round(r["grams"] - r["reserved_g"] - r["queued_g"], 3)
        return rows

    def create_token(self, hub_id: str) -> str:
        """A new API token for ``hub_id``: ``fth_<id>_<secret>``. Only a salted HMAC-SHA256 of
        the secret is stored; the token itself is shown once."""
        with self.db.tx() as tx:
            if tx.one("SELECT id FROM hubs WHERE id=?", (hub_id,)) is None:
                raise NotFound(f"unknown hub '{hub_id}'")
        token_id, secret, salt = (
            secrets.token_hex(6),
            secrets.token_urlsafe(32),
            secrets.token_hex(16),
        )
        with self.db.tx(write=True) as tx:
            tx.run(
                "INSERT INTO tokens (id, hub_id, salt, digest, created_at) VALUES (?, ?, ?, ?, ?)",
                (token_id, hub_id, salt, _hash_secret(salt, secret), self.clock()),
            )
        return f"fth_{token_id}_{secret}"

    def hub_for_token(self, token: str) -> str | None:
        """The hub id a token belongs to, or None (unknown, malformed or revoked)."""
        return self._owner_of(
            token, "fth", "SELECT hub_id AS owner, salt, digest, revoked FROM tokens WHERE id=?"
        )

    def create_client_token(self, client: str) -> str:
        """A new token for an order system named ``client``: ``ftc_<id>_<secret>``; stored
        like hub tokens (salted HMAC-SHA256 only), shown once."""
        if not _CLIENT.fullmatch(client):
            raise OrderError(
                f"client name {client!r}: 1..64 of a-z, A-Z, 0-9, '.', '_' or '-' (starting "
                "with a letter or digit)"
            )
        token_id, secret, salt = (
            secrets.token_hex(6),
            secrets.token_urlsafe(32),
            secrets.token_hex(16),
        )
        with self.db.tx(write=True) as tx:
            tx.run(
                "INSERT INTO client_tokens (id, client, salt, digest, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_id, client, salt, _hash_secret(salt, secret), self.clock()),
            )
        return f"ftc_{token_id}_{secret}"

    def client_for_token(self, token: str) -> str | None:
        """The order-system client a token belongs to, or None."""
        return self._owner_of(
            token,
            "ftc",
            "SELECT client AS owner, salt, digest, revoked FROM client_tokens WHERE id=?",
        )

    def cached_owner(self, token: str) -> str | None:
        """The hub id or client of a token verified in the last ``token_cache_s`` seconds, or
        None; memory only (the server calls it on its event loop, sparing a thread hop)."""
        hit = self._token_cache.get((token[:3], hashlib.sha256(token.encode()).digest()))
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def _owner_of(self, token: str, prefix: str, sql: str) -> str | None:
        # Agents send the same token many times a second: a verified token is remembered (by
        # its SHA-256) for token_cache_s, which is also how long a revocation may take.
        key = (prefix, hashlib.sha256(token.encode()).digest())
        hit = self._token_cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        owner = self._check_token(token, prefix, sql)
        if owner is not None and self.token_cache_s > 0:
            if len(self._token_cache) > 10_000:
                self._token_cache.clear()
            self._token_cache[key] = (owner, now + self.token_cache_s)
        return owner

    def _check_token(self, token: str, prefix: str, sql: str) -> str | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != prefix or len(parts[1]) != 12:
            return None
        with self.db.tx() as tx:
            row = tx.one(sql, (parts[1],))
        if row is None or row["revoked"]:
            return None
        if not hmac.compare_digest(_hash_secret(row["salt"], parts[2]), row["digest"]):
            return None
        return str(row["owner"])

    # -- orders ----------------------------------------------------------------------------

    def submit_order(
        self, order: dict[str, Any], deliver_to: tuple[float, float] | None, client: str = ""
    ) -> tuple[bool, Row]:
        """Record a new order (status received) for order system ``client``. The same order
        from the same client again is a no-op; the same id with a different body, or from
        another client, is a Conflict. Returns (created, order row)."""
        body = json.dumps(order, sort_keys=True)
        dest = json.dumps(list(deliver_to)) if deliver_to else None
        now = self.clock()
        oid = order["order_id"]
        with self.db.tx(write=True) as tx:
            row = tx.one("SELECT * FROM orders WHERE order_id=?", (oid,))
            if row is not None:
                if row["client"] != client:
                    raise Conflict(f"order id {oid} is taken")
                if row["body"] != body or row["deliver_to"] != dest:
                    raise Conflict(f"order {oid} exists with a different body")
                return False, row
            tx.run(
                "INSERT INTO orders (order_id, status, body, deliver_to, design, params,"
                " client, created_at, updated_at) VALUES (?, 'received', ?, ?, ?, ?, ?, ?, ?)",
                (
                    oid,
                    body,
                    dest,
                    order["design"],
                    json.dumps(order.get("params", {})),
                    client,
                    now,
                    now,
                ),
            )
            detail: dict[str, Any] = {"order": order}
            if client:
                detail["client"] = client
            self._event(tx, oid, None, "received", "received", detail=detail)
            return True, tx.one("SELECT * FROM orders WHERE order_id=?", (oid,)) or {}

    def get_order(self, order_id: str, client: str | None = None) -> Row | None:
        """The order with its jobs; None when unknown or (``client`` given) another client's."""
        with self.db.tx() as tx:
            row = tx.one("SELECT * FROM orders WHERE order_id=?", (order_id,))
            if row is not None and client is not None and row["client"] != client:
                return None
            if row is not None:
                row["jobs"] = tx.rows(
                    "SELECT * FROM jobs WHERE order_id=? ORDER BY part", (order_id,)
                )
            return row

    def list_orders(
        self, client: str | None = None, status: str = "", limit: int = 100, before: float = 0.0
    ) -> list[Row]:
        """Orders, newest first (of ``client`` when given; with ``status``; created before
        ``before`` for paging)."""
        where: list[str] = ["1=1"]
        args: list[Any] = []
        if client is not None:
            where.append("client=?")
            args.append(client)
        if status:
            where.append("status=?")
            args.append(status)
        if before:
            where.append("created_at<?")
            args.append(before)
        with self.db.tx() as tx:
            return tx.rows(
                "SELECT order_id, status, design, bundle_sha256, reason, client, created_at,"
                f" updated_at FROM orders WHERE {' AND '.join(where)}"
                " ORDER BY created_at DESC, order_id LIMIT ?",
                (*args, limit),
            )

    def orders_to_build(self) -> list[str]:
        """Orders received but not yet built (also those a crash interrupted)."""
        with self.db.tx() as tx:
            rows = tx.rows(
                "SELECT order_id FROM orders WHERE status IN ('received', 'building')"
                " ORDER BY created_at, order_id"
            )
        return [r["order_id"] for r in rows]

    def mark_building(self, order_id: str) -> None:
        self._set_order(order_id, "building", kind="building")

    def order_built(
        self,
        order_id: str,
        *,
        bundle_sha256: str,
        bundle_path: str,
        bundle_size: int,
        signature: str,
        design_hash: str,
        route: dict[str, Any],
        jobs: Sequence[tuple[str, str, int, float, Sequence[str]]],
        material: str = "",
        color: str = "",
        filament_g: float = 0.0,
    ) -> None:
        """Store the bundle and queue one job per (hub, machine profile, quantity, estimate_s,
        failover hubs); each takes ``filament_g`` grams per unit of ``material`` in ``color``
        from its hub's stock. No jobs: the order is rejected (no hub can make it)."""
        now = self.clock()
        with self.db.tx(write=True) as tx:
            row = tx.one("SELECT status FROM orders WHERE order_id=?", (order_id,))
            if row is None:
                raise NotFound(f"order {order_id} not found")
            if row["status"] not in ("received", "building"):
                return  # built before (a restart raced with the first build)
            status = "queued" if jobs else "rejected"
            reason = "" if jobs else "no hub can make this order"
            tx.run(
                "UPDATE orders SET status=?, bundle_sha256=?, bundle_path=?, bundle_size=?,"
                " signature=?, design_hash=?, route=?, reason=?, updated_at=? WHERE order_id=?",
                (
                    status,
                    bundle_sha256,
                    bundle_path,
                    bundle_size,
                    signature,
                    design_hash,
                    json.dumps(route, sort_keys=True),
                    reason,
                    now,
                    order_id,
                ),
            )
            self._event(
                tx,
                order_id,
                None,
                "built",
                "building",
                detail={"bundle_sha256": bundle_sha256, "design_hash": design_hash},
            )
            for part, (hub_id, machine, qty, estimate_s, failover) in enumerate(jobs):
                job_id = f"{order_id}.{part}"
                tx.run(
                    "INSERT INTO jobs (job_id, order_id, part, hub_id, machine, quantity, status,"
                    " estimate_s, failover, tried, material, color, filament_g, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        job_id,
                        order_id,
                        part,
                        hub_id,
                        machine,
                        qty,
                        estimate_s,
                        json.dumps([h for h in failover if h != hub_id]),
                        "[]",
                        material,
                        color,
                        max(0.0, filament_g),
                        now,
                        now,
                    ),
                )
                self._event(
                    tx,
                    order_id,
                    job_id,
                    "queued",
                    "queued",
                    hub=hub_id,
                    machine=machine,
                    detail={"quantity": qty, "filament_g": round(filament_g * qty, 3)},
                )
            self._event(
                tx,
                order_id,
                None,
                "order_status",
                status,
                detail={"reason": reason} if reason else {},
            )

    def order_failed(self, order_id: str, reason: str) -> None:
        """The build failed for a reason the order's author can fix."""
        self._set_order(order_id, "failed", kind="build_failed", reason=reason)

    def _set_order(self, order_id: str, status: str, kind: str, reason: str = "") -> None:
        with self.db.tx(write=True) as tx:
            tx.run(
                "UPDATE orders SET status=?, reason=?, updated_at=? WHERE order_id=?",
                (status, reason or None, self.clock(), order_id),
            )
            self._event(
                tx, order_id, None, kind, status, detail={"reason": reason} if reason else {}
            )

    def events(self, order_id: str) -> list[Row]:
        with self.db.tx() as tx:
            rows = tx.rows("SELECT * FROM events WHERE order_id=? ORDER BY id", (order_id,))
        for r in rows:
            r["detail"] = json.loads(r["detail"])
        return rows

    # -- jobs ------------------------------------------------------------------------------

    def claim(self, hub_id: str, agent: str, lease_s: float, machine: str = "") -> Row | None:
        """Lease the oldest queued job routed to ``hub_id`` (for machine profile ``machine`` if
        given), or None. Exactly one caller gets each job."""
        now = self.clock()
        self._requeue_expired(hub_id, now)
        where, args = "hub_id=? AND status='queued'", [hub_id]
        if machine:
            where += " AND machine=?"
            args.append(machine)
        with self.db.tx() as tx:  # idle agents poll: answer "no work" without the write lock
            if tx.one(f"SELECT job_id FROM jobs WHERE {where} LIMIT 1", args) is None:
                return None
            hub = tx.one("SELECT paused FROM hubs WHERE id=?", (hub_id,))
            if hub is not None and hub["paused"]:
                return None  # paused: no new work until resumed
        with self.db.tx(write=True) as tx:
            row = tx.one(
                f"SELECT job_id FROM jobs WHERE {where} ORDER BY created_at, job_id LIMIT 1"
                + self.db.lock,
                args,
            )
            if row is None:
                return None
            lease_id = secrets.token_hex(12)
            n = tx.run(
                "UPDATE jobs SET status='leased', lease_id=?, lease_agent=?, lease_expires=?,"
                " attempts=attempts+1, updated_at=? WHERE job_id=? AND status='queued'",
                (lease_id, agent, now + lease_s, now, row["job_id"]),
            )
            if n != 1:  # pragma: no cover - the lock makes this impossible
                return None
            job = tx.one("SELECT * FROM jobs WHERE job_id=?", (row["job_id"],)) or {}
            self._event(
                tx,
                job["order_id"],
                job["job_id"],
                "claimed",
                "leased",
                hub=hub_id,
                machine=job["machine"],
                agent=agent,
                detail={
                    "lease_s": lease_s,
                    "reserved_g": round(job["filament_g"] * job["quantity"], 3),
                    "material": job["material"],
                    "color": job["color"],
                },
            )
            self._order_status(tx, job["order_id"])
            order = (
                tx.one(
                    "SELECT bundle_sha256, bundle_size, signature FROM orders WHERE order_id=?",
                    (job["order_id"],),
                )
                or {}
            )
            job.update(order)
            return job

    def heartbeat(self, hub_id: str, job_id: str, lease_id: str, lease_s: float) -> Row:
        """Extend a lease. Conflict if the lease was lost (expired and requeued)."""
        now = self.clock()
        with self.db.tx(write=True) as tx:
            job = self._job_of_hub(tx, hub_id, job_id)
            if job["lease_id"] != lease_id or job["status"] not in JOB_ACTIVE:
                raise Conflict(
                    f"job {job_id}: lease {lease_id} is not held (status {job['status']})"
                )
            tx.run(
                "UPDATE jobs SET lease_expires=?, updated_at=? WHERE job_id=?",
                (now + lease_s, now, job_id),
            )
            job["lease_expires"] = now + lease_s
            return job

    def report(
        self,
        hub_id: str,
        job_id: str,
        lease_id: str,
        status: str,
        reason: str = "",
        machine: str = "",
    ) -> Row:
        """Record ``status`` (accepted, printing, done, failed) for a held lease. A repeat of
        the current status is a no-op; going backwards or a lost lease is a Conflict. A failed
        job moves to the next untried hub of its failover list, else it stays failed."""
        if status not in JOB_REPORTABLE:
            raise OrderError(f"status '{status}'; allowed: {', '.join(JOB_REPORTABLE)}")
        now = self.clock()
        with self.db.tx(write=True) as tx:
            job = tx.one("SELECT * FROM jobs WHERE job_id=?", (job_id,))
            if job is not None and job["prev_lease_id"] == lease_id and lease_id:
                if job["prev_status"] == status:
                    return job  # repeat of a report that already moved the job on
                if (
                    status == "done"
                    and job["prev_status"] == "expired"
                    and job["status"] == "queued"
                    and job["hub_id"] == hub_id
                ):
                    return self._late_done(tx, job, hub_id, lease_id, machine, now)
            job = self._job_of_hub(tx, hub_id, job_id)
            if job["lease_id"] != lease_id:
                raise Conflict(f"job {job_id}: lease {lease_id} is not held")
            if job["status"] == status:
                return job  # idempotent repeat
            if (
                job["status"] not in JOB_ACTIVE
                or _ORDER_OF_JOB[status] <= _ORDER_OF_JOB[job["status"]]
            ):
                raise Conflict(f"job {job_id}: cannot go from {job['status']} to {status}")
            detail = {"reason": reason} if reason else {}
            self._event(
                tx,
                job["order_id"],
                job_id,
                status,
                status,
                hub=hub_id,
                machine=machine or job["machine"],
                agent=job["lease_agent"],
                detail=detail,
            )
            tried = json.loads(job["tried"]) + [hub_id]
            failover = [h for h in json.loads(job["failover"]) if h not in tried]
            if status == "failed" and failover:
                nxt = failover[0]
                tx.run(
                    "UPDATE jobs SET status='queued', hub_id=?, lease_id=NULL, lease_agent=NULL,"
                    " lease_expires=NULL, prev_lease_id=?, prev_status='failed', tried=?,"
                    " reason=?, updated_at=? WHERE job_id=?",
                    (nxt, lease_id, json.dumps(tried), reason, now, job_id),
                )
                self._event(
                    tx,
                    job["order_id"],
                    job_id,
                    "rerouted",
                    "queued",
                    hub=nxt,
                    machine=job["machine"],
                    detail={"from": hub_id, "reason": reason},
                )
            else:
                tx.run(
                    "UPDATE jobs SET status=?, reason=?, updated_at=? WHERE job_id=?",
                    (status, reason or None, now, job_id),
                )
                if status == "done":
                    self._consume_stock(tx, job, hub_id)
            self._order_status(tx, job["order_id"])
            return tx.one("SELECT * FROM jobs WHERE job_id=?", (job_id,)) or {}

    def _late_done(
        self, tx: Tx, job: Row, hub_id: str, lease_id: str, machine: str, now: float
    ) -> Row:
        """``done`` from a lease that expired while nobody re-claimed the job: the part was
        made, so the job is done (and that lease holds it again, making repeats no-ops)."""
        claimed = tx.one(
            "SELECT agent FROM events WHERE job_id=? AND kind='claimed' ORDER BY id DESC LIMIT 1",
            (job["job_id"],),
        )
        agent = claimed["agent"] if claimed else None
        tx.run(
            "UPDATE jobs SET status='done', lease_id=?, lease_agent=?, lease_expires=NULL,"
            " prev_lease_id=NULL, prev_status=NULL, reason=NULL, updated_at=? WHERE job_id=?",
            (lease_id, agent, now, job["job_id"]),
        )
        self._event(
            tx,
            job["order_id"],
            job["job_id"],
            "done",
            "done",
            hub=hub_id,
            machine=machine or job["machine"],
            agent=agent,
            detail={"late": True, "note": "reported after its lease expired; not re-claimed"},
        )
        log.warning(
            "job %s: late done from agent %s after its lease expired; accepted (not re-claimed)",
            job["job_id"],
            agent,
        )
        self._consume_stock(tx, job, hub_id)
        self._order_status(tx, job["order_id"])
        return tx.one("SELECT * FROM jobs WHERE job_id=?", (job["job_id"],)) or {}

    def _consume_stock(self, tx: Tx, job: Row, hub_id: str) -> None:
        """Take a done job's filament from its hub's stock (never below zero)."""
        grams = float(job["filament_g"] or 0.0) * int(job["quantity"])
        if grams <= 0 or not job["material"]:
            return
        key = (hub_id, job["material"], job["color"])
        row = tx.one(
            "SELECT grams FROM stock WHERE hub_id=? AND material=? AND color=?" + self.db.lock,
            key,
        )
        if row is None:
            return  # the hub no longer declares this material: nothing to count down
        left = max(0.0, float(row["grams"]) - grams)
        tx.run(
            "UPDATE stock SET grams=?, updated_at=? WHERE hub_id=? AND material=? AND color=?",
            (left, self.clock(), *key),
        )
        self._event(
            tx,
            job["order_id"],
            job["job_id"],
            "stock_used",
            "done",
            hub=hub_id,
            detail={
                "material": job["material"],
                "color": job["color"],
                "grams": round(grams, 3),
                "left_g": round(left, 3),
            },
        )

    def job_for_hub(self, hub_id: str, job_id: str) -> Row:
        with self.db.tx() as tx:
            job = self._job_of_hub(tx, hub_id, job_id)
            order = (
                tx.one(
                    "SELECT bundle_sha256, bundle_path, bundle_size, signature FROM orders"
                    " WHERE order_id=?",
                    (job["order_id"],),
                )
                or {}
            )
        job.update(order)
        return job

    def requeue_expired(self) -> int:
        """Return every expired lease to the queue; how many."""
        return self._requeue_expired(None, self.clock())

    def _requeue_expired(self, hub_id: str | None, now: float) -> int:
        where = "status IN ('leased', 'accepted', 'printing') AND lease_expires < ?"
        args: list[Any] = [now]
        if hub_id is not None:
            where += " AND hub_id=?"
            args.append(hub_id)
        with self.db.tx() as tx:  # cheap check without the write lock
            if tx.one(f"SELECT job_id FROM jobs WHERE {where} LIMIT 1", args) is None:
                return 0
        with self.db.tx(write=True) as tx:
            rows = tx.rows(f"SELECT * FROM jobs WHERE {where}" + self.db.lock, args)
            for job in rows:
                tx.run(
                    "UPDATE jobs SET status='queued', prev_lease_id=lease_id,"
                    " prev_status='expired', lease_id=NULL, lease_agent=NULL,"
                    " lease_expires=NULL, updated_at=? WHERE job_id=?",
                    (now, job["job_id"]),
                )
                self._event(
                    tx,
                    job["order_id"],
                    job["job_id"],
                    "lease_expired",
                    "queued",
                    hub=job["hub_id"],
                    machine=job["machine"],
                    agent=job["lease_agent"],
                    detail={"was": job["status"]},
                )
                self._order_status(tx, job["order_id"])
            return len(rows)

    def _job_of_hub(self, tx: Tx, hub_id: str, job_id: str) -> Row:
        job = tx.one("SELECT * FROM jobs WHERE job_id=?", (job_id,))
        # A job routed elsewhere is "not found" for this hub: it must not learn it exists.
        if job is None or job["hub_id"] != hub_id:
            raise NotFound(f"job {job_id} not found")
        return job

    def _order_status(self, tx: Tx, order_id: str) -> None:
        jobs = tx.rows("SELECT status FROM jobs WHERE order_id=?", (order_id,))
        states = {j["status"] for j in jobs}
        if not states:
            return
        if states == {"done"}:
            status = "done"
        elif "failed" in states:
            status = "failed"
        elif states & set(JOB_ACTIVE) or "done" in states:
            status = "in_progress"
        else:
            status = "queued"
        row = tx.one("SELECT status FROM orders WHERE order_id=?", (order_id,))
        if row is not None and row["status"] != status:
            tx.run(
                "UPDATE orders SET status=?, updated_at=? WHERE order_id=?",
                (status, self.clock(), order_id),
            )
            self._event(tx, order_id, None, "order_status", status)

    def _event(
        self,
        tx: Tx,
        order_id: str,
        job_id: str | None,
        kind: str,
        status: str,
        *,
        hub: str | None = None,
        machine: str | None = None,
        agent: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        bundle = tx.one("SELECT bundle_sha256 FROM orders WHERE order_id=?", (order_id,))
        tx.run(
            "INSERT INTO events (order_id, job_id, ts, kind, status, hub_id, machine, agent,"
            " bundle_sha256, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order_id,
                job_id,
                self.clock(),
                kind,
                status,
                hub,
                machine,
                agent,
                bundle["bundle_sha256"] if bundle else None,
                json.dumps(detail or {}, sort_keys=True),
            ),
        )

    # -- views -----------------------------------------------------------------------------

    def live_backlog_h(self) -> dict[str, float]:
        """Machine hours not yet done, per hub (queued and in progress)."""
        with self.db.tx() as tx:
            rows = tx.rows(
                "SELECT hub_id, SUM(estimate_s * quantity) AS s FROM jobs"
                " WHERE status NOT IN ('done', 'failed') GROUP BY hub_id"
            )
        return {r["hub_id"]: float(r["s"] or 0.0) / 3600.0 for r in rows}

    def summary(self, limit: int = 50, client: str | None = None) -> dict[str, Any]:
        """Hubs with their queues and stock, and the most recent orders with the counts per
        status (only ``client``'s orders when given)."""
        with self.db.tx() as tx:
            hubs = tx.rows("SELECT id, name, state, paused, paused_reason FROM hubs ORDER BY id")
            counts = tx.rows(
                "SELECT hub_id, status, COUNT(*) AS n FROM jobs GROUP BY hub_id, status"
            )
            orders = tx.rows(
                "SELECT order_id, status, design, bundle_sha256, reason, created_at, updated_at"
                " FROM orders"
                + (" WHERE client=?" if client is not None else "")
                + " ORDER BY created_at DESC, order_id LIMIT ?",
                (client, limit) if client is not None else (limit,),
            )
            totals = tx.rows(
                "SELECT status, COUNT(*) AS n FROM orders"
                + (" WHERE client=?" if client is not None else "")
                + " GROUP BY status",
                (client,) if client is not None else (),
            )
        backlog = self.live_backlog_h()
        stock: dict[str, list[Row]] = {}
        for r in self.stock():
            stock.setdefault(r.pop("hub_id"), []).append(r)
        queues: dict[str, dict[str, int]] = {}
        for c in counts:
            queues.setdefault(c["hub_id"], {})[c["status"]] = int(c["n"])
        return {
            "hubs": [
                {
                    "id": h["id"],
                    "name": h["name"],
                    "state": "paused" if h["paused"] and h["state"] == "online" else h["state"],
                    "paused_reason": h["paused_reason"] or "",
                    "jobs": queues.get(h["id"], {}),
                    "backlog_h": round(backlog.get(h["id"], 0.0), 3),
                    "stock": stock.get(h["id"], []),
                }
                for h in hubs
            ],
            "orders": orders,
            "order_counts": {t["status"]: int(t["n"]) for t in totals},
        }
