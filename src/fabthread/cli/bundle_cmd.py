"""`fabthread bundle ...` commands."""

from __future__ import annotations

import click


@click.group()
def bundle() -> None:
    """(being built)"""
