"""Route an order to a hub: a pure function over the hub network.

1. Capability filter, in this order (the first failing check is the hub's reason):
   hub state is ``online``; a machine of the request's process (and, if the G-code was made
   for a machine profile, of that profile); the part's bounding box fits that machine's build
   volume; the material in the color is in stock with enough grams (``filament_g`` per unit
   times the quantity, or at least one unit when splitting).
2. Score, lower is better, in hours (see ``ScoreWeights``)::

       n            = capable machines at the hub
       backlog_h    = hub.backlog_h + live queue at the hub (machine hours)
       completion_h = backlog_h / n + time_h * ceil(quantity / n)
       score        = hours_per_km * distance_km + backlog * backlog_h / n
                      + completion * completion_h

   ``distance_km`` is the great-circle (haversine) distance from the delivery location; without
   one the term is 0.
3. Rank by (score, hub id): deterministic. The accepted hubs, in order, are the failover list.
4. Optional split of the quantity over the best ``max_hubs`` hubs: each unit goes to the hub
   where it would cost least (score of that hub with one more unit), ties to the better rank.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from fabthread.model.hub import (
    Candidate,
    Hub,
    MachineSpec,
    RouteDecision,
    RouteRequest,
    ScoreWeights,
)

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
_EPS_MM = 1e-6
DEFAULT_WEIGHTS = ScoreWeights()


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km between two WGS84 points (degrees)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def route(
    request: RouteRequest,
    hubs: Sequence[Hub],
    machines: Mapping[str, MachineSpec],
    *,
    live_backlog_h: Mapping[str, float] | None = None,
    weights: ScoreWeights = DEFAULT_WEIGHTS,
    max_hubs: int = 1,
) -> RouteDecision:
    """Every hub's verdict, the ranking and the split. ``machines`` maps profile id to its
    spec; ``live_backlog_h`` adds queued machine hours per hub id (from the job server)."""
    if max_hubs < 1:
        raise ValueError("max_hubs must be >= 1")
    live = live_backlog_h or {}
    splitting = max_hubs > 1 and request.quantity > 1
    accepted: list[Candidate] = []
    rejected: list[Candidate] = []
    for hub in sorted(hubs, key=lambda h: h.id):
        cand = _assess(request, hub, machines, live.get(hub.id, 0.0), weights, splitting)
        (accepted if cand.accepted else rejected).append(cand)
    accepted.sort(key=lambda c: (round(c.score, 9), c.hub_id))
    split = _split(request, accepted[:max_hubs], weights) if accepted else ()
    return RouteDecision(
        order_id=request.order_id, candidates=tuple(accepted + rejected), split=split
    )


def _assess(
    req: RouteRequest,
    hub: Hub,
    machines: Mapping[str, MachineSpec],
    live_h: float,
    w: ScoreWeights,
    splitting: bool,
) -> Candidate:
    def reject(reason: str) -> Candidate:
        return Candidate(hub_id=hub.id, accepted=False, reason=reason)

    if hub.state != "online":
        return reject(f"hub is {hub.state}")
    of_process = [m for m in hub.machines if _spec(machines, m.profile, "process") == req.process]
    if not of_process:
        return reject(f"no {req.process} machine")
    if req.machine:
        of_process = [m for m in of_process if m.profile == req.machine]
        if not of_process:
            have = ", ".join(sorted({m.profile for m in hub.machines}))
            return reject(f"no {req.machine} machine (has {have})")
    capable = [m for m in of_process if _fits(req.size_mm, machines[m.profile])]
    if not capable:
        x, y, z = req.size_mm or (0.0, 0.0, 0.0)
        return reject(f"part {x:g} x {y:g} x {z:g} mm does not fit any machine")
    grams = hub.grams_of(req.material, req.color)
    if req.filament_g > 0:
        max_units = int(math.floor(grams / req.filament_g + 1e-9))
    else:
        max_units = req.quantity if grams > 0 else 0
    needed = 1 if splitting else req.quantity
    if max_units < needed:
        want = req.filament_g * needed
        return reject(
            f"{req.material} {req.color}: {grams:g} g in stock, {want:g} g needed"
            if req.filament_g > 0
            else f"no {req.material} {req.color} in stock"
        )
    n = len(capable)
    backlog_h = hub.backlog_h + max(0.0, live_h)
    distance = (
        great_circle_km(req.deliver_to[0], req.deliver_to[1], hub.lat_deg, hub.lon_deg)
        if req.deliver_to is not None
        else None
    )
    units = min(req.quantity, max_units)
    completion_h = _completion_h(backlog_h, n, req.time_s, units)
    score = _score(w, distance, backlog_h, n, completion_h)
    return Candidate(
        hub_id=hub.id,
        accepted=True,
        machines=tuple(m.id for m in capable),
        distance_km=None if distance is None else round(distance, 3),
        backlog_h=round(backlog_h, 4),
        completion_h=round(completion_h, 4),
        score=round(score, 6),
        max_units=min(max_units, req.quantity),
    )


def _spec(machines: Mapping[str, MachineSpec], profile: str, field: str) -> str | None:
    spec = machines.get(profile)
    return None if spec is None else getattr(spec, field)


def _fits(size: tuple[float, float, float] | None, spec: MachineSpec) -> bool:
    if size is None:
        return True
    room = (spec.size_x_mm, spec.size_y_mm, spec.size_z_mm)
    return all(s <= r + _EPS_MM for s, r in zip(size, room, strict=True))


def _completion_h(backlog_h: float, n: int, time_s: float, units: int) -> float:
    return backlog_h / n + time_s / 3600.0 * math.ceil(units / n)


def _score(
    w: ScoreWeights, distance_km: float | None, backlog_h: float, n: int, completion_h: float
) -> float:
    return (
        w.hours_per_km * (distance_km or 0.0)
        + w.backlog * backlog_h / n
        + w.completion * completion_h
    )


def _split(
    req: RouteRequest, best: Sequence[Candidate], w: ScoreWeights
) -> tuple[tuple[str, int], ...]:
    if len(best) == 1 or req.quantity == 1:
        first = best[0]
        return ((first.hub_id, min(req.quantity, first.max_units)),)
    assigned = [0] * len(best)
    for _ in range(req.quantity):
        options = []
        for rank, cand in enumerate(best):
            if assigned[rank] >= cand.max_units:
                continue
            n = len(cand.machines)
            completion = _completion_h(cand.backlog_h, n, req.time_s, assigned[rank] + 1)
            cost = _score(w, cand.distance_km, cand.backlog_h, n, completion)
            options.append((round(cost, 9), rank))
        if not options:
            break  # stock runs out: the rest stays unassigned
        assigned[min(options)[1]] += 1
    return tuple((c.hub_id, k) for c, k in zip(best, assigned, strict=True) if k > 0)


def request_from_manifest(
    manifest: Mapping[str, object], deliver_to: tuple[float, float] | None = None
) -> RouteRequest:
    """A ``RouteRequest`` from a bundle manifest (``fabthread.pipeline`` writes it)."""
    order = manifest.get("order") or {}
    machine = manifest.get("machine") or {}
    material = manifest.get("material") or {}
    color = manifest.get("color") or {}
    estimate = manifest.get("estimate") or {}
    part = manifest.get("part") or {}
    assert isinstance(order, dict) and isinstance(machine, dict)
    assert isinstance(material, dict) and isinstance(color, dict)
    assert isinstance(estimate, dict) and isinstance(part, dict)
    size = part.get("size_mm")
    return RouteRequest(
        order_id=str(order.get("order_id", "")),
        process=str(machine.get("process", "fdm")),
        material=str(material.get("id", order.get("material", ""))),
        color=str(color.get("name", order.get("color", ""))),
        quantity=int(order.get("quantity", 1)),
        machine=str(machine.get("id", order.get("machine", ""))),
        size_mm=tuple(float(v) for v in size) if isinstance(size, list) else None,  # type: ignore[arg-type]
        time_s=float(estimate.get("time_s", 0.0) or 0.0),
        filament_g=float(estimate.get("filament_g", 0.0) or 0.0),
        deliver_to=deliver_to,
    )


def decision_to_dict(decision: RouteDecision, request: RouteRequest) -> dict[str, object]:
    """Stable JSON form of a decision (what ``fabthread route --json`` prints)."""
    assigned = sum(k for _, k in decision.split)
    return {
        "order_id": decision.order_id,
        "chosen": decision.chosen,
        "failover": list(decision.ranked),
        "split": [{"hub": h, "quantity": k} for h, k in decision.split],
        "unassigned": request.quantity - assigned if decision.split else request.quantity,
        "request": {
            "process": request.process,
            "machine": request.machine,
            "material": request.material,
            "color": request.color,
            "quantity": request.quantity,
            "size_mm": list(request.size_mm) if request.size_mm else None,
            "time_s": request.time_s,
            "filament_g": request.filament_g,
            "deliver_to": list(request.deliver_to) if request.deliver_to else None,
        },
        "hubs": [
            {
                "hub": c.hub_id,
                "accepted": c.accepted,
                "reason": c.reason,
                "machines": list(c.machines),
                "distance_km": c.distance_km,
                "backlog_h": c.backlog_h,
                "completion_h": c.completion_h,
                "score": c.score,
                "max_units": c.max_units,
            }
            for c in decision.candidates
        ],
    }
