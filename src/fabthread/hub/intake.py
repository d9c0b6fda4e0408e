"""Turn an order file (and optionally its bundle) into a ``RouteRequest`` (disk at the edge).

An order file is an order JSON object, or an envelope
``{"order": {...}, "deliver_to": {"lat_deg": .., "lon_deg": ..}}``.
Part size and estimates come from the bundle's manifest when given; else the order is planned
(``fabthread.pipeline.plan_order``: build, slice, emit; nothing written).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

from fabthread.errors import OrderError
from fabthread.hub.router import request_from_manifest
from fabthread.hub.service import parse_submission
from fabthread.model import order_from_dict
from fabthread.model.hub import RouteRequest

log = logging.getLogger("fabthread.hub.intake")


def read_submission(path: str | Path) -> tuple[dict, tuple[float, float] | None]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OrderError(f"order file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OrderError(f"{path}: cannot read the order: {exc}") from None
    try:
        return parse_submission(data)
    except OrderError as exc:
        raise OrderError(f"{path}: {exc}") from None


def request_for(
    order: dict,
    deliver_to: tuple[float, float] | None,
    *,
    bundle: str | Path | None = None,
    plan: bool = True,
    any_machine: bool = False,
) -> RouteRequest:
    """The routing request for an order: from the bundle manifest, else from planning it."""
    if bundle is not None:
        from fabthread.hub.safezip import open_safe, read_member

        zf = open_safe(Path(bundle).read_bytes())
        manifest = json.loads(read_member(zf, "manifest.json", 4 * 1024 * 1024))
        req = request_from_manifest(manifest, deliver_to)
    elif plan and (p := _plan(order)) is not None:
        lo, hi = p.part.bounds_mm
        req = RouteRequest(
            order_id=order["order_id"],
            process=p.machine.process,
            material=p.material.id,
            color=order["color"],
            quantity=order["quantity"],
            machine=p.machine.id,
            size_mm=tuple(round(float(v), 3) for v in (hi - lo)),  # type: ignore[arg-type]
            time_s=p.program.stats.time_s,
            filament_g=p.program.stats.filament_g,
            deliver_to=deliver_to,
        )
    else:
        req = RouteRequest(
            order_id=order["order_id"],
            process="fdm",
            material=order["material"],
            color=order["color"],
            quantity=order["quantity"],
            machine=order["machine"],
            deliver_to=deliver_to,
        )
    return replace(req, machine="") if any_machine else req


def _plan(order: dict):  # type: ignore[no-untyped-def]
    """The order's plan, or None when the build stages are not installed (a hub's catalog
    without designs): routing then goes on with size and estimates unknown."""
    try:
        from fabthread.pipeline import plan_order

        return plan_order(order_from_dict(order))
    except ImportError as exc:
        log.warning(
            "cannot plan order %s (%s); size and estimates not checked", order["order_id"], exc
        )
        return None
