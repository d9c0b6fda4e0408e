"""Reading STL, OBJ and 3MF files into arrays without trimesh: formats, corner cases, and
the errors that name the file and the problem. trimesh's readers are the reference."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh

from fabthread.errors import MeshError
from fabthread.geom.mesh_read import CORE_NS, read_3mf, read_mesh, read_obj, read_stl

MESHES = Path("/work/shared/meshes")
RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])


def _binary_stl(tri: np.ndarray, header: bytes = b"fabthread") -> bytes:
    rec = np.zeros(len(tri), dtype=RECORD)
    rec["vertices"] = tri
    return header.ljust(80, b" ") + np.uint32(len(tri)).tobytes() + rec.tobytes()


def _triangle_set(vertices: np.ndarray, faces: np.ndarray) -> list[tuple[float, ...]]:
    """Triangles as sorted tuples of their corners: order and winding free."""
    tri = np.round(vertices[faces], 9)
    return sorted(tuple(sorted(map(tuple, t))) for t in tri.tolist())  # type: ignore[misc]


# --- STL ----------------------------------------------------------------------------------


def test_binary_stl_even_with_a_solid_header() -> None:
    tri = np.random.default_rng(0).normal(size=(7, 3, 3)).astype(np.float32)
    for header in (b"binary", b"solid but binary"):
        got = read_stl(_binary_stl(tri, header), "t.stl")
        assert got.dtype == np.float64 and np.array_equal(got, tri.astype(np.float64))


def test_ascii_stl_several_solids_any_case() -> None:
    text = (
        "solid one\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1 0 0\n"
        "   vertex 0 1.5e0 0\n  endloop\n endfacet\nendsolid one\n"
        "SOLID two\nFACET NORMAL 0 0 1\nOUTER LOOP\nVERTEX -1 -2 -3\nVERTEX 1E-3 2 3\n"
        "VERTEX 4 5 6\nENDLOOP\nENDFACET\nENDSOLID two\n"
    )
    got = read_stl(text.encode(), "t.stl")
    assert got.tolist() == [
        [[0, 0, 0], [1, 0, 0], [0, 1.5, 0]],
        [[-1, -2, -3], [0.001, 2, 3], [4, 5, 6]],
    ]


def test_stl_readers_agree_with_trimesh() -> None:
    for path in [*MESHES.glob("*.stl"), *Path("/usr/share/PrusaSlicer/shapes").glob("*.stl")]:
        ref = trimesh.load(path, process=False)
        v, f = read_mesh(path.read_bytes(), "stl", str(path))
        assert np.array_equal(v[f], ref.vertices[ref.faces]), path.name


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "shorter than the 84-byte header"),
        (b"\x00" * 50, "shorter than the 84-byte header"),
        (b"x" * 80 + np.uint32(3).tobytes() + b"\x00" * 120, "truncated binary STL.*3 triangles"),
        (b"x" * 80 + np.uint32(1).tobytes() + b"\x00" * 60, "not a valid STL"),
        (b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n", "endsolid"),
        (b"solid x\nfacet\nouter loop\nvertex 0 0\nendloop\nendfacet\nendsolid", "exactly 3"),
        (
            b"solid x\nfacet\nvertex 0 0\nvertex 1 0 0\nvertex 1 1 0\nendfacet\nendsolid",
            "'vertex' at",
        ),
        (b"solid x\nfacet\nvertex 0 0 0\nvertex 1 0 0\nendfacet\nendsolid x", "exactly 3"),
        (
            b"solid x\nfacet\nvertex 0 0 z\nvertex 1 0 0\nvertex 1 1 0\nendfacet\nendsolid",
            "'z' at line 3",
        ),
    ],
)
def test_bad_stl_is_named(content: bytes, message: str) -> None:
    with pytest.raises(MeshError, match="^bad.stl: .*" + message):
        read_stl(content, "bad.stl")


# --- OBJ ----------------------------------------------------------------------------------


def test_obj_corner_forms_negative_indices_and_polygons() -> None:
    text = b"""# a square and a pentagon
v 0 0 0
v 1 0 0
v 1 1 0 1.0
v 0 1 0
vt 0 0
vn 0 0 1
f 1/1/1 2/1/1 3//1 4
o second
v 0 0 1
v 1 0 1
v 2 1 1
v 1 2 1
v 0 1 1
f -5 -4/1 -3 -2 -1  # trailing comment
f 1 2 3
"""
    v, f = read_obj(text, "t.obj")
    assert v.shape == (9, 3) and v[2].tolist() == [1, 1, 0]
    assert f.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7], [4, 7, 8], [0, 1, 2]]


def test_obj_agrees_with_trimesh(tmp_path: Path) -> None:
    mesh = trimesh.creation.icosphere(subdivisions=2)
    path = tmp_path / "s.obj"
    mesh.export(path)
    ref = trimesh.load(path, process=False)
    v, f = read_obj(path.read_bytes(), str(path))
    assert _triangle_set(v, f) == _triangle_set(ref.vertices, ref.faces)


@pytest.mark.parametrize(
    "text,message",
    [
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", "vertex 4, but the file has 3"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf -4 2 3\nv 0 0 1\n", "vertex -4, but fewer"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "start at 1"),
        (b"v 0 0 0\nv 1 0 0\nf 1 2\n", "fewer than 3"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 //3\n", "without a vertex index"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", "'x'"),
        (b"v 0 0 zero\n", "'zero' is not a number"),
    ],
)
def test_bad_obj_is_named(text: bytes, message: str) -> None:
    with pytest.raises(MeshError, match="^bad.obj: .*" + message):
        read_obj(text, "bad.obj")


# --- 3MF ----------------------------------------------------------------------------------

TETRA_V = [(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)]
TETRA_F = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]


def _mesh_xml(vertices=TETRA_V, faces=TETRA_F, p: str = "") -> str:
    vs = "".join(f'<{p}vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in vertices)
    ts = "".join(f'<{p}triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in faces)
    return f"<{p}mesh><{p}vertices>{vs}</{p}vertices><{p}triangles>{ts}</{p}triangles></{p}mesh>"


def _model(resources: str, build: str, extra_ns: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<model unit="millimeter" xmlns="{CORE_NS}"'
        f"{extra_ns}><resources>{resources}</resources><build>{build}</build></model>"
    )


def _3mf(parts: dict[str, str], rels_target: str | None = "/3D/3dmodel.model") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if rels_target is not None:
            z.writestr(
                "_rels/.rels",
                '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                'package/2006/relationships"><Relationship Target="'
                + rels_target
                + '" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/'
                '3dmodel"/></Relationships>',
            )
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def test_3mf_items_components_and_transforms_agree_with_trimesh(tmp_path: Path) -> None:
    shifted = "1 0 0 0 1 0 0 0 1 20 0 0"
    turned = "0 1 0 -1 0 0 0 0 1 0 30 5"  # 90° about z, then moved
    resources = (
        f'<object id="1" type="model">{_mesh_xml()}</object>'
        f'<object id="2" type="model"><components><component objectid="1" transform="{shifted}"/>'
        '<component objectid="1"/></components></object>'
        f'<object id="3"><components><component objectid="2" transform="{turned}"/>'
        "</components></object>"
    )
    build = '<item objectid="3" transform="1 0 0 0 1 0 0 0 2 0 0 1"/><item objectid="1"/>'
    data = _3mf({"3D/3dmodel.model": _model(resources, build)})
    v, f = read_3mf(data, "t.3mf")
    assert len(f) == 3 * len(TETRA_F)  # one object placed three times
    path = tmp_path / "t.3mf"
    path.write_bytes(data)
    ref = trimesh.load(path, force="mesh", process=False)
    assert _triangle_set(v, f) == _triangle_set(ref.vertices, ref.faces)
    assert v[:, 2].max() == pytest.approx(31.0)  # (10 + 5) scaled by 2, moved 1 up


def test_3mf_prefixes_attribute_order_quotes_and_other_namespaces() -> None:
    p = "m:"
    vs = "".join(
        f'<{p}vertex z=\'{z}\'  y="{y}"\n x="{x}" s:x="9"></{p}vertex>' for x, y, z in TETRA_V
    )
    ts = "".join(f'<{p}triangle pid="1" v3="{c}" v1="{a}" v2="{b}" p1="0"/>' for a, b, c in TETRA_F)
    model = (
        f'<?xml version="1.0"?><!-- <vertex x="5" y="5" z="5"/> -->'
        f'<{p}model xmlns:{p[:-1]}="{CORE_NS}" xmlns:s="urn:slice"><{p}resources>'
        f'<s:slicestack id="9"><s:slice ztop="1"><s:vertices><s:vertex x="1" y="2"/>'
        "</s:vertices></s:slice></s:slicestack>"
        f'<{p}object id="1"><{p}mesh><{p}vertices>{vs}</{p}vertices>'
        f"<{p}triangles>{ts}</{p}triangles></{p}mesh></{p}object></{p}resources>"
        f'<{p}build><{p}item objectid="1"/></{p}build></{p}model>'
    )
    v, f = read_3mf(_3mf({"3D/3dmodel.model": model}), "t.3mf")
    assert v.tolist() == [list(map(float, t)) for t in TETRA_V]
    assert f.tolist() == [list(t) for t in TETRA_F]


def test_3mf_production_paths_rels_target_and_mirroring() -> None:
    part = _model(f'<object id="7">{_mesh_xml()}</object>', "")
    root = _model(
        '<object id="1"><components><component p:path="/3D/Objects/part.model" objectid="7"'
        ' transform="-1 0 0 0 1 0 0 0 1 0 0 0"/></components></object>',
        '<item objectid="1"/>',
        extra_ns=' xmlns:p="http://schemas.microsoft.com/3dmanufacturing/production/2015/06"',
    )
    data = _3mf({"3D/main.model": root, "3D/Objects/part.model": part}, "/3D/main.model")
    v, f = read_3mf(data, "t.3mf")
    assert v[:, 0].min() == -10.0
    tri = v[f]
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6
    assert volume == pytest.approx(1000 / 6)  # mirrored, still facing out


def test_benchy_3mf_reads_as_trimesh_reads_it() -> None:
    path = MESHES / "3DBenchy.3mf"
    ref = trimesh.load(path, force="mesh", process=False)
    v, f = read_mesh(path.read_bytes(), "3mf", str(path))
    assert np.array_equal(v, ref.vertices) and np.array_equal(f, ref.faces)


def _one(content: str, item_attrs: str = "") -> dict[str, str]:
    """A model with object 1 holding ``content``, placed once."""
    build = f'<item objectid="1"{item_attrs}/>'
    return {"3D/3dmodel.model": _model(f'<object id="1">{content}</object>', build)}


@pytest.mark.parametrize(
    "parts,message",
    [
        ({}, "without a 3D model"),
        ({"3D/3dmodel.model": "<model"}, "no <model> element|not well-formed"),
        ({"3D/3dmodel.model": _model("", "").replace("<build>", "<build")}, "not well-formed"),
        ({"3D/3dmodel.model": '<model xmlns="urn:other"><resources/></model>'}, "core namespace"),
        ({"3D/3dmodel.model": _model(f'<object id="1">{_mesh_xml()}</object>', "")}, "no build"),
        ({"3D/3dmodel.model": _model("", '<item objectid="4"/>')}, "object 4.*not define"),
        (_one(_mesh_xml(faces=[(0, 1, 4)])), "object 1: a triangle refers to missing vertex 4"),
        (_one(_mesh_xml(), ' transform="1 0 0"'), "12 numbers"),
        (_one(_mesh_xml().replace(" y=", " q=", 1)), "without x and y and z"),
        (_one(_mesh_xml().replace("10", "ten", 1)), "'ten' at line 2 is not a number"),
        (_one('<components><component objectid="1"/></components>'), "nest deeper"),
        (_one(_mesh_xml()[:-20]), "without </mesh>"),
    ],
)
def test_bad_3mf_is_named(parts: dict[str, str], message: str) -> None:
    with pytest.raises(MeshError, match="^bad.3mf: .*(" + message + ")"):
        read_3mf(_3mf(parts, rels_target=None), "bad.3mf")


def test_3mf_that_is_not_a_zip_or_is_corrupt() -> None:
    with pytest.raises(MeshError, match="bad.3mf: not a 3MF file"):
        read_3mf(b"solid x", "bad.3mf")
    good = _3mf({"3D/3dmodel.model": _model(f'<object id="1">{_mesh_xml()}</object>', "")})
    at = good.index(b"3D/3dmodel.model") + 40  # inside the deflated model
    broken = good[:at] + bytes(b ^ 0x5A for b in good[at : at + 40]) + good[at + 40 :]
    with pytest.raises(MeshError, match="bad.3mf"):
        read_3mf(broken, "bad.3mf")
