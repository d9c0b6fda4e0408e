"""`fabthread design ...` commands."""

from __future__ import annotations

import click


@click.group()
def design() -> None:
    """(being built)"""
