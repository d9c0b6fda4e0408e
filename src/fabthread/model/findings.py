"""Findings: what the manufacturability checks say about a part on one machine.

A ``Finding`` is one problem (or note) of one rule: how bad it is, what was measured against
which limit, where on the part, and what to do about it. ``Findings`` is the complete answer
of ``fabthread.check.check_part``: every finding plus which rules ran, so "no finding" can be
told apart from "not checked".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: A point on the part, (x, y, z) in mm, in the part's own coordinates.
Point = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one rule.

    ``rule`` is a stable snake_case id ("open_edges", "min_wall", "build_volume", ...).
    ``measured`` and ``limit`` are in ``unit`` ("mm", "mm2", "deg", "count" or "" when the
    finding has no number). ``location`` holds up to a few representative points (mm), worst
    first; ``face_ids`` indexes ``Part.faces`` where the rule works per triangle. ``fix`` is
    one sentence a user can act on.
    """

    rule: str
    severity: Severity
    message: str
    measured: float | None = None
    limit: float | None = None
    unit: str = ""
    location: tuple[Point, ...] = ()
    fix: str = ""
    face_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity={self.severity!r}; allowed: {', '.join(SEVERITIES)}")
        pts = tuple(tuple(round(float(c), 4) for c in p) for p in self.location)
        if any(len(p) != 3 for p in pts):
            raise ValueError("location points must be (x, y, z) triples")
        object.__setattr__(self, "location", pts)
        object.__setattr__(self, "face_ids", tuple(int(i) for i in self.face_ids))
        for name in ("measured", "limit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))

    def to_dict(self) -> dict[str, object]:
        """JSON-able dict with stable keys (numbers rounded to 4 decimals)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "measured": None if self.measured is None else round(self.measured, 4),
            "limit": None if self.limit is None else round(self.limit, 4),
            "unit": self.unit,
            "location": [list(p) for p in self.location],
            "face_ids": list(self.face_ids),
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Findings:
    """All findings for one part on one machine (and material), in rule order.

    ``rules`` names every rule that ran (with or without findings); ``process`` is the process
    the rules were chosen for.
    """

    part: str
    machine: str
    process: str
    items: tuple[Finding, ...] = ()
    material: str = ""
    rules: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.items)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.severity == "warning")

    def by_rule(self, rule: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.rule == rule)

    def counts(self) -> dict[str, int]:
        """Number of findings per severity (every severity present, possibly 0)."""
        return {s: sum(1 for f in self.items if f.severity == s) for s in SEVERITIES}

    def to_dict(self) -> dict[str, object]:
        """JSON-able dict with stable keys: part, machine, material, process, ok, counts,
        rules, findings."""
        return {
            "part": self.part,
            "machine": self.machine,
            "material": self.material,
            "process": self.process,
            "ok": not self.has_errors,
            "counts": self.counts(),
            "rules": list(self.rules),
            "findings": [f.to_dict() for f in self.items],
        }
