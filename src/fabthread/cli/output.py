"""Rendering helpers shared by the commands: JSON to stdout, tables for humans."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click


def emit_json(data: object) -> None:
    """Stable JSON on stdout (sorted keys, two-space indent)."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with left-aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def key_values(items: Sequence[str], option: str) -> dict[str, str]:
    """``("width_mm=40", ...)`` -> ``{"width_mm": "40"}`` for a repeatable KEY=VALUE option.

    A malformed or repeated item is a ParamError naming the option and the item.
    """
    from fabthread.errors import ParamError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError(f"{option} '{item}' is not KEY=VALUE (e.g. {option} name=value)")
        if key in out:
            raise ParamError(f"{option} {key} is given twice")
        out[key] = value.strip()
    return out
