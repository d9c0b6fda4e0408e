"""`fabthread hub ...`, `fabthread route` and `fabthread order track` (being built)."""

from __future__ import annotations

import click


@click.group()
def hub() -> None:
    """(being built)"""


@click.command()
def route() -> None:
    """(being built)"""


@click.group()
def order() -> None:
    """(being built)"""
