"""The job service: order intake, bundle build in a worker thread, routing, signing.

Transport-free (the HTTP layer is ``fabthread.hub.server``). ``Builder`` is
``fabthread.pipeline.run_order`` by default; tests pass a small fake.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fabthread.errors import OrderError, UserError
from fabthread.hub import signing
from fabthread.hub.router import decision_to_dict, request_from_manifest, route
from fabthread.hub.store import Store
from fabthread.model import Bundle, Order, order_from_dict, order_to_dict
from fabthread.model.hub import Hub, MachineSpec, Stock

log = logging.getLogger("fabthread.hub.service")

Builder = Callable[[Order, Path], Bundle]


def default_builder(order: Order, out_dir: Path) -> Bundle:
    from fabthread.pipeline import run_order

    return run_order(order, out_dir)


@dataclass
class ServiceConfig:
    """``var_dir`` holds bundles and the signing key. ``lease_s`` is the default lease,
    ``max_lease_s`` the longest an agent may ask for; ``split_max_hubs`` > 1 splits an
    order's quantity over that many hubs. ``client_auth`` False opens the order endpoints to
    anyone (a private network or a demo)."""

    db_url: str
    var_dir: Path
    hubs: Sequence[Hub]
    machines: Mapping[str, MachineSpec] | None = None
    builder: Builder = default_builder
    lease_s: float = 60.0
    max_lease_s: float = 3600.0
    split_max_hubs: int = 1
    build_workers: int = 1
    client_auth: bool = True  # order systems need a client token (POST/GET /orders)
    extra: dict[str, Any] = field(default_factory=dict)


def parse_submission(data: object) -> tuple[dict[str, Any], tuple[float, float] | None]:
    """An order (JSON object), or ``{"order": {...}, "deliver_to": {"lat_deg", "lon_deg"}}``.
    Returns the canonical order dict and the delivery location. OrderError when malformed."""
    deliver_to = None
    if isinstance(data, dict) and "order" in data:
        unknown = sorted(set(data) - {"order", "deliver_to"})
        if unknown:
            raise OrderError(f"submission: unknown key '{unknown[0]}'; allowed: deliver_to, order")
        dest = data.get("deliver_to")
        if dest is not None:
            deliver_to = parse_location(dest, "submission: deliver_to")
        data = data["order"]
    order = order_from_dict(data, source="order")
    return order_to_dict(order), deliver_to


def parse_location(dest: object, where: str) -> tuple[float, float]:
    if not isinstance(dest, dict) or set(dest) != {"lat_deg", "lon_deg"}:
        raise OrderError(f"{where} must be an object with lat_deg and lon_deg")
    lat, lon = dest["lat_deg"], dest["lon_deg"]
    for name, v, lim in (("lat_deg", lat, 90), ("lon_deg", lon, 180)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not -lim <= v <= lim:
            raise OrderError(f"{where}.{name}={v!r} is outside -{lim}..{lim}")
    return float(lat), float(lon)


class HubService:
    """Owns the store, the signing key and the build workers."""

    def __init__(self, config: ServiceConfig, store: Store | None = None) -> None:
        self.config = config
        self.store = store or Store(config.db_url)
        self.store.sync_hubs(config.hubs)
        self.bundle_dir = Path(config.var_dir) / "bundles"
        self.bundle_dir.mkdir(parents=True, exist_ok=True)
        self.key = signing.load_or_create_key(config.var_dir)
        self.public_key = signing.public_key_b64(self.key)
        self._machines = config.machines
        self._pool = ThreadPoolExecutor(config.build_workers, thread_name_prefix="fab-build")
        self._building: set[str] = set()
        self._lock = threading.Lock()

    def resume(self) -> int:
        """Queue builds that a stop interrupted; how many."""
        pending = self.store.orders_to_build()
        for oid in pending:
            self._enqueue(oid)
        return len(pending)

    def submit(self, data: object, client: str = "") -> tuple[bool, dict[str, Any]]:
        """Record an order of order system ``client`` and start its build. Returns (created,
        order view)."""
        order, deliver_to = parse_submission(data)
        created, _ = self.store.submit_order(order, deliver_to, client=client)
        if created:
            self._enqueue(order["order_id"])
        return created, self.order_view(order["order_id"]) or {}

    def _enqueue(self, order_id: str) -> None:
        with self._lock:
            if order_id in self._building:
                return
            self._building.add(order_id)
        self._pool.submit(self._build, order_id)

    def _build(self, order_id: str) -> None:
        try:
            self.build_now(order_id)
        except Exception:  # noqa: BLE001 - a worker must not die silently
            log.exception("build of order %s failed", order_id)
            self.store.order_failed(order_id, "internal error while building (see server log)")
        finally:
            with self._lock:
                self._building.discard(order_id)

    def build_now(self, order_id: str) -> None:
        """Build, sign and route one order (in the calling thread)."""
        row = self.store.get_order(order_id)
        if row is None or row["status"] not in ("received", "building"):
            return
        self.store.mark_building(order_id)
        order = order_from_dict(json.loads(row["body"]))
        deliver_to = json.loads(row["deliver_to"]) if row["deliver_to"] else None
        try:
            bundle = self.config.builder(order, self.bundle_dir)
            data = Path(bundle.path).read_bytes()
            manifest = bundle.manifest
            machines = self.machines()
        except UserError as exc:
            self.store.order_failed(order_id, str(exc))
            return
        sha = hashlib.sha256(data).hexdigest()
        request = request_from_manifest(manifest, tuple(deliver_to) if deliver_to else None)
        decision = route(
            request,
            self.live_hubs(),
            machines,
            live_backlog_h=self.store.live_backlog_h(),
            max_hubs=self.config.split_max_hubs,
        )
        jobs = [
            (hub_id, request.machine, qty, request.time_s, decision.ranked)
            for hub_id, qty in decision.split
        ]
        design = manifest.get("design") or {}
        self.store.order_built(
            order_id,
            bundle_sha256=sha,
            bundle_path=str(Path(bundle.path).resolve()),
            bundle_size=len(data),
            signature=signing.sign(self.key, order_id, sha),
            design_hash=str(design.get("source_sha256", "")) if isinstance(design, dict) else "",
            route=decision_to_dict(decision, request),
            jobs=jobs,
            material=request.material,
            color=request.color,
            filament_g=request.filament_g,
        )

    def live_hubs(self) -> list[Hub]:
        """The hubs as the router must see them now: paused at run time, and with the stock
        that open jobs have not already spoken for."""
        states = self.store.hub_states()
        stock = self.store.available_stock()
        hubs = []
        for hub in self.config.hubs:
            state = states.get(hub.id, hub.state)
            left = stock.get(hub.id)
            hubs.append(
                replace(
                    hub,
                    state=state,  # type: ignore[arg-type]
                    stock=hub.stock
                    if left is None
                    else tuple(Stock(m, c, max(0.0, g)) for (m, c), g in sorted(left.items())),
                )
            )
        return hubs

    def machines(self) -> Mapping[str, MachineSpec]:
        if self._machines is None:
            from fabthread.hub.registry import machine_specs

            self._machines = machine_specs(self.config.hubs)
        return self._machines

    def order_view(self, order_id: str, client: str | None = None) -> dict[str, Any] | None:
        """What an order system sees: status, bundle hash, route and jobs (no lease ids).
        None when unknown or (``client`` given) another client's order."""
        row = self.store.get_order(order_id, client)
        if row is None:
            return None
        route_json = json.loads(row["route"]) if row.get("route") else None
        return {
            "order_id": row["order_id"],
            "status": row["status"],
            "reason": row["reason"] or "",
            "design": row["design"],
            "design_hash": row["design_hash"],
            "bundle_sha256": row["bundle_sha256"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "route": None
            if route_json is None
            else {k: route_json[k] for k in ("chosen", "failover", "split", "unassigned")},
            "jobs": [
                {
                    "job_id": j["job_id"],
                    "hub": j["hub_id"],
                    "machine": j["machine"],
                    "quantity": j["quantity"],
                    "status": j["status"],
                    "attempts": j["attempts"],
                    "reason": j["reason"] or "",
                }
                for j in row["jobs"]
            ],
        }

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no build is running or queued (tests, shutdown)."""
        import time

        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self._lock:
                if not self._building:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.store.close()
