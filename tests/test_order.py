"""Orders: the JSON shape an order system sends, validated before anything is built."""

from __future__ import annotations

import json

import pytest

from fabthread.errors import OrderError
from fabthread.model import order_from_dict, order_to_dict
from fabthread.pipeline import load_order

GOOD = {
    "order_id": "A-1001",
    "design": "wall_bracket",
    "machine": "prusa_mk4",
    "material": "pla",
    "color": "signal_red",
    "quantity": 2,
    "params": {"width_mm": 40},
}


def test_round_trip() -> None:
    order = order_from_dict(GOOD)
    assert order.quantity == 2
    assert order_to_dict(order)["params"] == {"width_mm": 40}
    assert order_from_dict(order_to_dict(order)) == order


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"order_id": "../x"}, "order_id"),
        ({"quantity": 0}, "quantity=0"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"design": ""}, "'design' is required"),
        ({"params": [1, 2]}, "'params'"),
        ({"params": {"w": {"x": 1}}}, "params.w"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_bad_orders_name_the_problem(change: dict, needle: str) -> None:
    with pytest.raises(OrderError, match=None) as info:
        order_from_dict({**GOOD, **change}, source="o.json")
    assert needle in str(info.value)
    assert str(info.value).startswith("o.json")


def test_load_order_from_file_errors(tmp_path) -> None:
    with pytest.raises(OrderError, match="not found"):
        load_order(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(OrderError, match="not valid JSON"):
        load_order(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    assert load_order(good).order_id == "A-1001"
