"""Fixtures for the check tests (helpers live in checkkit.py)."""

from __future__ import annotations

import pytest
from checkkit import machine

from fabthread.model.profiles import Color, MachineProfile, MaterialProfile


@pytest.fixture
def fdm() -> MachineProfile:
    return machine("fdm", nozzle_diameter_mm=0.4)


@pytest.fixture
def pla() -> MaterialProfile:
    return MaterialProfile(
        id="pla", name="PLA", process="fdm", density_g_cm3=1.24, colors=(Color("black", "#000000"),)
    )
