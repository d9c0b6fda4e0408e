"""`fabthread slice` (being built)."""

from __future__ import annotations

import click


@click.command("slice")
def slice_() -> None:
    """(being built)"""
