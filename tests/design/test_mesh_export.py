"""STL and 3MF bytes: deterministic, valid, and they parse back to the same mesh."""

from __future__ import annotations

import io
import struct
import zipfile
from xml.etree import ElementTree

import numpy as np
import pytest
import trimesh

from fabthread.geom.mesh_export import normalize_color, stl_bytes, threemf_bytes
from fabthread.model.part import Part


@pytest.fixture(scope="module")
def part() -> Part:
    """A real design output (shared by the tests of this module)."""
    from fabthread.customize.params import resolve_params
    from fabthread.design.build import build_part
    from fabthread.design.catalog import load_spec

    spec = load_spec("wall_bracket")
    return build_part(spec, resolve_params(spec, {}, preset="small"))


def _cube() -> Part:
    m = trimesh.creation.box((10, 20, 30))
    return Part(name="cube", vertices_mm=m.vertices, faces=m.faces, source_sha256="ab" * 32)


def test_stl_is_deterministic_and_parses_back(part: Part) -> None:
    data = stl_bytes(part)
    assert data == stl_bytes(part)
    assert len(data) == 84 + 50 * len(part.faces)
    assert struct.unpack("<I", data[80:84])[0] == len(part.faces)
    back = trimesh.load(io.BytesIO(data), file_type="stl")
    assert len(back.faces) == len(part.faces) and back.is_watertight
    assert back.volume == pytest.approx(part.volume_mm3, rel=1e-5)
    normals = np.frombuffer(data[84:], dtype=np.dtype([("n", "<f4", (3,)), ("r", "V38")]))["n"]
    assert np.allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-5)


def test_3mf_is_deterministic_and_parses_back(part: Part) -> None:
    data = threemf_bytes(part, color_hex="#ff8800", name="bracket")
    assert data == threemf_bytes(part, color_hex="#ff8800", name="bracket")
    back = trimesh.load(io.BytesIO(data), file_type="3mf", force="mesh")
    assert len(back.faces) == len(part.faces)
    assert back.volume == pytest.approx(part.volume_mm3, rel=1e-6)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.namelist() == ["[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model"]
    assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert zf.testzip() is None


def test_3mf_model_xml(part: Part) -> None:
    ns = {"m": "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"}
    zf = zipfile.ZipFile(io.BytesIO(threemf_bytes(part, color_hex="#ff8800", name="a<b")))
    root = ElementTree.fromstring(zf.read("3D/3dmodel.model"))
    assert root.get("unit") == "millimeter"
    base = root.find("m:resources/m:basematerials/m:base", ns)
    assert base is not None and base.get("displaycolor") == "#FF8800"
    obj = root.find("m:resources/m:object", ns)
    assert obj is not None and obj.get("name") == "a<b" and obj.get("pid") == "1"
    assert len(obj.findall("m:mesh/m:triangles/m:triangle", ns)) == len(part.faces)
    rels = ElementTree.fromstring(zf.read("_rels/.rels"))
    assert rels[0].get("Target") == "/3D/3dmodel.model"


def test_3mf_without_color_has_no_material() -> None:
    data = threemf_bytes(_cube())
    model = zipfile.ZipFile(io.BytesIO(data)).read("3D/3dmodel.model")
    assert b"basematerials" not in model and b"pid=" not in model
    back = trimesh.load(io.BytesIO(data), file_type="3mf", force="mesh")
    assert back.volume == pytest.approx(6000)


def test_part_color_is_the_default_and_bad_colors_are_refused() -> None:
    cube = _cube()
    colored = Part(name="c", vertices_mm=cube.vertices_mm, faces=cube.faces, color_hex="#112233")
    assert b'displaycolor="#112233"' in zipfile.ZipFile(io.BytesIO(threemf_bytes(colored))).read(
        "3D/3dmodel.model"
    )
    assert normalize_color("#a0b0c0ff") == "#A0B0C0FF"
    with pytest.raises(ValueError, match="#RRGGBB"):
        threemf_bytes(cube, color_hex="red")
