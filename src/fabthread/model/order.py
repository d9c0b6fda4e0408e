"""Order: what an order system asks for. Values only, never code."""

from __future__ import annotations

from dataclasses import dataclass

from fabthread.model.params import ParamValue


@dataclass(frozen=True, slots=True)
class Order:
    """One order line: a design with parameter values, made ``quantity`` times.

    ``machine`` and ``material`` are profile ids (e.g. "prusa_mk4", "pla"); ``color`` is a
    color name from the material's catalog. ``params`` holds only the values the customer
    set; the rest come from the design's defaults.
    """

    order_id: str
    design: str
    machine: str
    material: str
    color: str
    quantity: int = 1
    params: tuple[tuple[str, ParamValue], ...] = ()
    preset: str = ""
    settings: tuple[tuple[str, ParamValue], ...] = ()

    def params_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)
