"""`fabthread gcode ...` commands."""

from __future__ import annotations

import click


@click.group()
def gcode() -> None:
    """(being built)"""
