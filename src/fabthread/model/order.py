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
    fits: tuple[tuple[str, str], ...] = ()  # fit name -> class, e.g. (("lid", "snug"),)
    scale: float = 1.0
    colors: tuple[tuple[str, str], ...] = ()  # body name -> color name, for multi-body designs

    def params_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)


_ORDER_KEYS = {
    "order_id": "string of letters, digits, '.', '_' or '-' (1..64 characters)",
    "design": "design name, e.g. 'wall_bracket'",
    "machine": "machine profile id, e.g. 'prusa_mk4'",
    "material": "material profile id, e.g. 'pla'",
    "color": "color name from the material's catalog",
    "quantity": "integer 1..1000",
    "params": "object of parameter name -> value",
    "preset": "name of a preset of the design",
    "settings": "object of slice setting -> value",
    "fits": "object of fit name -> fit class, e.g. {\"lid\": \"snug\"}",
    "scale": "uniform scale factor within the design's limits (default 1.0)",
    "colors": "object of body name -> color name, e.g. {\"box\": \"black\", \"lid\": \"red\"}",
}
MAX_QUANTITY = 1000


def order_from_dict(data: object, source: str = "order") -> Order:
    """Validate the JSON shape of an order and return it frozen.

    Only the shape is checked here (required keys, types, unknown keys); parameter values are
    checked against the design's schema by ``fabthread.customize``.
    """
    import re

    from fabthread.errors import OrderError

    if not isinstance(data, dict):
        raise OrderError(f"{source}: an order must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_ORDER_KEYS))
    if unknown:
        raise OrderError(
            f"{source}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(_ORDER_KEYS))}"
        )
    for key in ("order_id", "design", "machine", "material", "color"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise OrderError(f"{source}: '{key}' is required: {_ORDER_KEYS[key]}")
    order_id = data["order_id"]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", order_id):
        raise OrderError(f"{source}: order_id={order_id!r} is not a {_ORDER_KEYS['order_id']}")
    quantity = data.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise OrderError(f"{source}: quantity={quantity!r} is not an {_ORDER_KEYS['quantity']}")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise OrderError(f"{source}: quantity={quantity} is outside 1..{MAX_QUANTITY}")
    pairs: dict[str, tuple[tuple[str, ParamValue], ...]] = {}
    for key in ("params", "settings"):
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise OrderError(f"{source}: '{key}' must be an {_ORDER_KEYS[key]}")
        for name, v in value.items():
            if isinstance(v, dict | list) or v is None:
                raise OrderError(
                    f"{source}: {key}.{name} must be a number, boolean or string, got "
                    f"{type(v).__name__}"
                )
        pairs[key] = tuple(value.items())
    preset = data.get("preset", "")
    if not isinstance(preset, str):
        raise OrderError(f"{source}: 'preset' must be a string")
    fits = data.get("fits", {})
    if not isinstance(fits, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fits.items()
    ):
        raise OrderError(f"{source}: 'fits' must be an {_ORDER_KEYS['fits']}")
    colors = data.get("colors", {})
    if not isinstance(colors, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in colors.items()
    ):
        raise OrderError(f"{source}: 'colors' must be an {_ORDER_KEYS['colors']}")
    scale = data.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        raise OrderError(f"{source}: scale={scale!r} is not a positive number")
    return Order(
        order_id=order_id,
        design=data["design"],
        machine=data["machine"],
        material=data["material"],
        color=data["color"],
        quantity=quantity,
        params=pairs["params"],
        preset=preset,
        settings=pairs["settings"],
        fits=tuple(fits.items()),
        scale=float(scale),
        colors=tuple(colors.items()),
    )


def order_to_dict(order: Order) -> dict[str, object]:
    """The canonical JSON form of an order (what goes into a bundle manifest)."""
    return {
        "order_id": order.order_id,
        "design": order.design,
        "machine": order.machine,
        "material": order.material,
        "color": order.color,
        "quantity": order.quantity,
        "params": dict(order.params),
        "preset": order.preset,
        "settings": dict(order.settings),
        "fits": dict(order.fits),
        "scale": order.scale,
        "colors": dict(order.colors),
    }
