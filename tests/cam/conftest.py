from __future__ import annotations

import pytest

from fabthread import profiles
from fabthread.geom.mesh_io import load_mesh

MESHES = "/work/shared/meshes"


@pytest.fixture(scope="session")
def tools():
    return profiles.load_tools()


@pytest.fixture(scope="session")
def octagonal():
    return load_mesh(f"{MESHES}/octagonal_pocket.stl", units="m")


@pytest.fixture(scope="session")
def idler():
    return load_mesh(f"{MESHES}/idler_riser.stl", units="inch")
