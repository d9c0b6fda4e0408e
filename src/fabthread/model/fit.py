"""Fits between mating features: what a design declares, the class table, and resolved numbers.

A design declares a fit on one of its parameters (the *feature*, a float in mm that the design
adds to a nominal size or uses as a gap). An order picks a class per fit ("snug", "H7/g6");
``fabthread.customize.fit.resolve_fits`` turns the class and the receiving machine's measured
compensation into the concrete parameter value and a record of how it got there.

Kinds (what the feature parameter means, and so which compensation applies):

``clearance``  gap per side between an outer wall of one part and an inner wall of another
               (a lid lip in a box). Outer walls grow by ``xy_size_offset_mm`` per side, holes
               shrink by ``hole_shrink_mm`` in diameter, so the drawn gap is
               nominal + xy_size_offset + hole_shrink / 2.
``hole``       diametral allowance of a hole over a nominal shaft (a gear bore on a 5 mm
               shaft): drawn = nominal allowance + hole_shrink.
``shaft``      diametral allowance of a shaft or peg under a nominal hole (negative is
               oversize): drawn = nominal allowance - 2 * xy_size_offset.

FDM classes (press, snug, slip, loose) give a gap per side for a reference nozzle; ISO 286
classes (H7/g6, ...) give hole and shaft deviation bands per nominal size range and apply to
``hole`` and ``shaft`` fits of a nominal size, e.g. on a CNC mill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FitKind = Literal["clearance", "hole", "shaft"]
FIT_KINDS: tuple[FitKind, ...] = ("clearance", "hole", "shaft")


@dataclass(frozen=True, slots=True)
class FitSpec:
    """A fit declared by a design (``[[fit]]`` in design.toml).

    ``feature`` names the float parameter (mm) the fit sets; ``nominal`` names the parameter
    holding the nominal diameter for ``hole``/``shaft`` fits (ISO bands depend on it; "" for
    ``clearance``). ``classes`` restricts the classes offered (empty: every class of the table
    that applies to the kind).
    """

    name: str
    feature: str
    kind: FitKind
    default_class: str
    nominal: str = ""
    classes: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class ClearanceClass:
    """An FDM fit class: the gap per side (mm) for a nozzle of ``FitTable.reference_nozzle_mm``.

    Diametral allowance for hole/shaft fits is twice the gap.
    """

    name: str
    clearance_mm: float
    description: str = ""


@dataclass(frozen=True, slots=True)
class IsoBand:
    """ISO 286 deviations (µm) of one tolerance zone (e.g. "g6") for nominal sizes in
    (over_mm, upto_mm]: ``lower_um`` .. ``upper_um`` relative to the nominal size."""

    zone: str
    over_mm: float
    upto_mm: float
    lower_um: float
    upper_um: float


@dataclass(frozen=True, slots=True)
class IsoClass:
    """An ISO 286 hole-basis fit such as H7/g6: the hole's zone and the shaft's zone."""

    name: str
    hole: str
    shaft: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class FitTable:
    """The fit classes of ``profiles/fits.toml``."""

    reference_nozzle_mm: float
    clearance: tuple[ClearanceClass, ...]
    iso: tuple[IsoClass, ...] = ()
    bands: tuple[IsoBand, ...] = ()
    sha256: str = ""
    path: str = ""

    def class_names(self, kind: FitKind) -> tuple[str, ...]:
        """Every class that applies to a fit of ``kind``, FDM classes first."""
        names = tuple(c.name for c in self.clearance)
        if kind == "clearance":
            return names
        return names + tuple(c.name for c in self.iso)

    def band(self, zone: str, size_mm: float) -> IsoBand | None:
        """The band of ``zone`` whose size range holds ``size_mm`` (None outside the table)."""
        for b in self.bands:
            if b.zone == zone and b.over_mm < size_mm <= b.upto_mm:
                return b
        return None


@dataclass(frozen=True, slots=True)
class ResolvedFit:
    """How one fit became a parameter value (all lengths in mm).

    ``value_mm`` = ``nominal_allowance_mm`` + ``compensation_mm``; it is what the design's
    ``feature`` parameter is set to. For ISO classes ``band_um`` is the (lower, upper)
    deviation of the zone made, and the allowance is its middle.
    """

    name: str
    feature: str
    kind: FitKind
    fit_class: str
    chosen: bool  # False: the design's default class
    nominal_allowance_mm: float
    compensation_mm: float
    value_mm: float
    machine: str
    nominal_size_mm: float | None = None
    band_um: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "feature": self.feature,
            "kind": self.kind,
            "class": self.fit_class,
            "chosen": self.chosen,
            "nominal_allowance_mm": self.nominal_allowance_mm,
            "compensation_mm": self.compensation_mm,
            "value_mm": self.value_mm,
            "machine": self.machine,
        }
        if self.nominal_size_mm is not None:
            out["nominal_size_mm"] = self.nominal_size_mm
        if self.band_um is not None:
            out["band_um"] = list(self.band_um)
        return out


@dataclass(frozen=True, slots=True)
class ResolvedFits:
    """Every fit of a design resolved for one machine, in declaration order."""

    design: str
    fits: tuple[ResolvedFit, ...] = ()
    table_sha256: str = ""

    def values(self) -> dict[str, float]:
        """Feature parameter -> value (mm), to feed into ``resolve_params``."""
        return {f.feature: f.value_mm for f in self.fits}

    def chosen_features(self) -> frozenset[str]:
        """Features whose class the order chose explicitly."""
        return frozenset(f.feature for f in self.fits if f.chosen)

    def as_dict(self) -> dict[str, object]:
        """The manifest form: ``{fit name: {class, nominal, compensation, value, ...}}``."""
        return {f.name: f.as_dict() for f in self.fits}


__all__ = [
    "FIT_KINDS",
    "ClearanceClass",
    "FitKind",
    "FitSpec",
    "FitTable",
    "IsoBand",
    "IsoClass",
    "ResolvedFit",
    "ResolvedFits",
]
