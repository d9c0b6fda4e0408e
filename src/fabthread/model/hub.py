"""The hub network: hubs, their machines and stock, and what the router decided.

A hub is a local micro-factory that pulls job bundles. The network is data (TOML files under
``profiles/hubs/``); the router (``fabthread.hub.router``) is a pure function over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HubState = Literal["online", "paused", "offline"]
HUB_STATES: tuple[HubState, ...] = ("online", "paused", "offline")


@dataclass(frozen=True, slots=True)
class HubMachine:
    """One machine at a hub. ``id`` is the hub-local name ("mk4-a"), ``profile`` the machine
    profile id ("prusa_mk4") whose G-code it runs."""

    id: str
    profile: str


@dataclass(frozen=True, slots=True)
class Stock:
    """Material in stock at a hub: ``grams`` of ``material`` (profile id) in ``color``."""

    material: str
    color: str
    grams: float


@dataclass(frozen=True, slots=True)
class Hub:
    """A micro-factory. ``lat_deg``/``lon_deg`` in WGS84 degrees; ``backlog_h`` is the work the
    hub already has outside this network (machine hours), added to the live queue."""

    id: str
    name: str
    lat_deg: float
    lon_deg: float
    machines: tuple[HubMachine, ...]
    stock: tuple[Stock, ...] = ()
    state: HubState = "online"
    backlog_h: float = 0.0
    path: str = ""

    def grams_of(self, material: str, color: str) -> float:
        """Total grams of ``material`` in ``color`` over all spools."""
        return sum(s.grams for s in self.stock if s.material == material and s.color == color)


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """What the router needs to know about a machine profile (from ``MachineProfile``)."""

    id: str
    process: str
    size_x_mm: float
    size_y_mm: float
    size_z_mm: float


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What is to be made. ``size_mm`` is the part's bounding box (x, y, z) or None when not
    known (not checked); ``time_s``/``filament_g`` are per unit. ``machine`` is the profile the
    G-code was made for ("" accepts any machine of ``process`` that the part fits)."""

    order_id: str
    process: str
    material: str
    color: str
    quantity: int = 1
    machine: str = ""
    size_mm: tuple[float, float, float] | None = None
    time_s: float = 0.0
    filament_g: float = 0.0
    deliver_to: tuple[float, float] | None = None  # (lat_deg, lon_deg)


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the route score (lower is better), see ``fabthread.hub.router``."""

    hours_per_km: float = 0.01  # 100 km of distance cost as much as one hour of waiting
    backlog: float = 0.25  # per queued machine hour per capable machine
    completion: float = 1.0  # per hour until the order would be finished


@dataclass(frozen=True, slots=True)
class Candidate:
    """One hub as the router saw it. ``reason`` says why it was rejected ("" if accepted)."""

    hub_id: str
    accepted: bool
    reason: str = ""
    machines: tuple[str, ...] = ()  # capable hub-local machine ids
    distance_km: float | None = None
    backlog_h: float = 0.0
    completion_h: float = 0.0
    score: float = 0.0
    max_units: int = 0  # how many units the hub's stock allows


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """The router's answer: every hub with its verdict (``candidates``, in ranked order for
    the accepted ones, then the rejected by id), the chosen hub, the failover list and the
    split of the quantity (hub id, units)."""

    order_id: str
    candidates: tuple[Candidate, ...]
    split: tuple[tuple[str, int], ...] = ()

    @property
    def ranked(self) -> tuple[str, ...]:
        """Accepted hub ids, best first (the failover list)."""
        return tuple(c.hub_id for c in self.candidates if c.accepted)

    @property
    def chosen(self) -> str | None:
        ranked = self.ranked
        return ranked[0] if ranked else None
