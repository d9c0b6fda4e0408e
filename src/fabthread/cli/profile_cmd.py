"""`fabthread profile ...` commands."""

from __future__ import annotations

import click


@click.group()
def profile() -> None:
    """(being built)"""
