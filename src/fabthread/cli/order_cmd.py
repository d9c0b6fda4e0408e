"""`fabthread make` and `fabthread demo` (being built)."""

from __future__ import annotations

import click


@click.command()
def make() -> None:
    """(being built)"""


@click.command()
def demo() -> None:
    """(being built)"""
