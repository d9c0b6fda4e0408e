"""Reading meshes into Parts: formats, units, repairs and refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from fabthread.errors import MeshError
from fabthread.geom import mesh_io
from fabthread.geom.mesh_io import (
    UNIT_SCALE,
    load_mesh,
    open_edge_count,
    part_from_arrays,
    part_from_trimesh,
)
from fabthread.geom.place import fits, place_on_bed
from fabthread.model.part import Part

MESHES = Path("/work/shared/meshes")
SHAPES = Path("/usr/share/PrusaSlicer/shapes")
#: What one unit of each shared mesh is (SOURCES.md); the rest are mm.
UNITS = {"featuretype.stl": "inch", "idler_riser.stl": "inch", "angle_block.stl": "inch"}
UNITS["octagonal_pocket.stl"] = "m"
#: Meshes whose bodies overlap: the trimesh path unions them.
NEEDS_TRIMESH = {"OTHER_recycling_symbol.stl", "PETG_recycling_symbol.stl"}
NEEDS_TRIMESH.add("PLA_recycling_symbol.stl")
REAL_MESHES = sorted(MESHES.glob("*.stl")) + sorted(MESHES.glob("*.3mf"))
REAL_MESHES += sorted(SHAPES.glob("*.stl"))


def _no_trimesh(*args: object, **kwargs: object) -> Part:
    raise AssertionError("the fast path handed a clean mesh to trimesh")


def _same(a: Part, b: Part) -> bool:
    return (
        a.vertices_mm.shape == b.vertices_mm.shape
        and a.faces.shape == b.faces.shape
        and bool(np.array_equal(a.vertices_mm, b.vertices_mm))
        and bool(np.array_equal(a.faces, b.faces))
    )


@pytest.mark.parametrize("path", REAL_MESHES, ids=lambda p: p.name)
def test_load_mesh_gives_what_the_trimesh_path_gives(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old load_mesh (trimesh.load, scale, part_from_trimesh) is the reference: same
    vertices and faces in the same order, so the same volume and bounds to the last bit."""
    units = UNITS.get(path.name, "mm")
    ref = trimesh.load(path, force="mesh", process=True)
    ref.apply_scale(UNIT_SCALE[units])
    want = part_from_trimesh(ref, path.stem)
    if path.name not in NEEDS_TRIMESH:
        monkeypatch.setattr(mesh_io, "_trimesh_part", _no_trimesh)
    got = load_mesh(path, units=units)
    assert _same(got, want)
    assert got.volume_mm3 == pytest.approx(want.volume_mm3, rel=1e-12)
    assert np.array_equal(got.bounds_mm, want.bounds_mm)
    assert got.meta == (("units", units), ("source", path.name))


def test_loading_a_clean_mesh_does_not_import_trimesh() -> None:
    code = (
        "import sys\n"
        "from fabthread.geom.mesh_io import load_mesh\n"
        "assert 'trimesh' not in sys.modules and 'scipy' not in sys.modules\n"
        f"load_mesh({str(MESHES / '3DBenchy.3mf')!r})\n"
        "load_mesh({!r}, units='inch')\n".format(str(MESHES / "featuretype.stl"))
        + "assert 'trimesh' not in sys.modules and 'networkx' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cube_stl_loads_closed_and_outward() -> None:
    part = load_mesh(MESHES / "20mm-xyz-cube.stl")
    size = np.ptp(part.vertices_mm, axis=0)
    np.testing.assert_allclose(size, [20, 20, 20], atol=1e-6)
    assert 7800 < part.volume_mm3 < 8000  # the engraved letters take a little
    assert open_edge_count(part.faces) == 0
    assert part.name == "20mm-xyz-cube" and len(part.source_sha256) == 64


@pytest.mark.parametrize(
    "name,units,size",
    [
        ("angle_block.stl", "inch", (33.0, 25.0, 36.0)),
        ("octagonal_pocket.stl", "m", (229, 165, 16)),
    ],
)
def test_units_scale_to_mm(name: str, units: str, size: tuple[float, float, float]) -> None:
    part = load_mesh(MESHES / name, units=units)
    got = sorted(np.ptp(part.vertices_mm, axis=0))
    np.testing.assert_allclose(got, sorted(size), rtol=0.05)


def test_benchy_3mf_with_a_few_open_edges_loads() -> None:
    part = load_mesh(MESHES / "3DBenchy.3mf")
    size = np.ptp(part.vertices_mm, axis=0)
    np.testing.assert_allclose(sorted(size), sorted([60, 31, 48]), rtol=0.03)
    assert part.volume_mm3 > 10000


def test_flipped_normals_are_fixed(tmp_path: Path) -> None:
    box = trimesh.creation.box(extents=(10, 20, 30))
    box.invert()
    assert box.volume < 0
    path = tmp_path / "inside_out.stl"
    box.export(path)
    part = load_mesh(path)
    assert part.volume_mm3 == pytest.approx(6000.0)


def test_obj_and_ascii_stl(tmp_path: Path) -> None:
    box = trimesh.creation.box(extents=(1, 2, 3))
    box.export(tmp_path / "b.obj")
    (tmp_path / "a.stl").write_text(trimesh.exchange.stl.export_stl_ascii(box))
    for name in ("b.obj", "a.stl"):
        part = load_mesh(tmp_path / name, units="cm")
        assert part.volume_mm3 == pytest.approx(6000.0)


def test_badly_open_mesh_is_refused(tmp_path: Path) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=10)
    keep = sphere.triangles_center[:, 2] < 3.0  # cut off the cap: a large hole
    sphere.update_faces(keep)
    path = tmp_path / "bowl.stl"
    sphere.export(path)
    with pytest.raises(MeshError, match="bowl.stl.*open"):
        load_mesh(path)


def test_small_hole_is_filled() -> None:
    box = trimesh.creation.box(extents=(10, 10, 10))
    box.update_faces(np.arange(1, len(box.faces)))  # one triangle missing
    part = part_from_trimesh(box, "holey")
    assert open_edge_count(part.faces) == 0
    assert part.volume_mm3 == pytest.approx(1000.0)


@pytest.mark.parametrize("content", [b"", b"solid x\nendsolid x\n", b"\x00" * 50, b"garbage"])
def test_empty_or_unreadable_files_name_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.stl"
    path.write_bytes(content)
    with pytest.raises(MeshError, match="bad.stl"):
        load_mesh(path)


def test_missing_file_and_bad_units(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="nope.stl"):
        load_mesh(tmp_path / "nope.stl")
    with pytest.raises(MeshError, match="units"):
        load_mesh(MESHES / "20mm-xyz-cube.stl", units="furlong")
    (tmp_path / "x.step").write_text("ISO-10303-21;")
    with pytest.raises(MeshError, match="x.step"):
        load_mesh(tmp_path / "x.step")


def test_place_on_bed_and_fits() -> None:
    box = trimesh.creation.box(extents=(10, 20, 30)).apply_translation([-50, 7, -3])
    part = part_from_trimesh(box, "box")
    placed = place_on_bed(part, 250.0, 210.0)
    lo, hi = placed.bounds_mm
    assert lo[2] == pytest.approx(0.0)
    np.testing.assert_allclose((lo[:2] + hi[:2]) / 2, [125.0, 105.0])
    assert placed.volume_mm3 == pytest.approx(part.volume_mm3)
    assert fits(placed, 10, 20, 30) and not fits(placed, 10, 19.9, 30)
    assert not fits(placed, 250, 210, 29)


def test_overlapping_bodies_are_merged_not_hollowed() -> None:
    a = trimesh.creation.box(extents=(10, 10, 10))
    b = trimesh.creation.box(extents=(10, 10, 10)).apply_translation([5, 0, 0])
    part = part_from_trimesh(trimesh.util.concatenate([a, b]), "overlap")
    assert part.volume_mm3 == pytest.approx(1500.0, rel=1e-6)


def test_nested_bodies_keep_the_even_odd_meaning() -> None:
    outer = trimesh.creation.box(extents=(20, 20, 20))
    cavity = trimesh.creation.box(extents=(10, 10, 10))
    cavity.invert()
    ball = trimesh.creation.icosphere(radius=2.0)
    mesh = trimesh.util.concatenate([outer, cavity, ball])
    part = part_from_trimesh(mesh, "nested")
    assert len(part.faces) == len(mesh.faces)  # left alone


def test_non_manifold_mesh_is_refused() -> None:
    # three boxes sharing one edge line: many edges used by four triangles
    fins = [
        trimesh.creation.box(extents=(10, 10, 10)).apply_translation(t)
        for t in ([5, 5, 5], [-5, -5, 5])
    ]
    mesh = trimesh.util.concatenate(fins)
    mesh.merge_vertices()
    faces = np.vstack([mesh.faces, mesh.faces[:6][:, ::-1]])  # duplicated, flipped triangles
    bad = trimesh.Trimesh(mesh.vertices, faces, process=False)
    with pytest.raises(MeshError, match="not manifold"):
        part_from_trimesh(bad, "fins")


# --- the fast path against the trimesh path, mesh by mesh and on random damage ----------


def _reference(vertices: np.ndarray, faces: np.ndarray) -> Part | str:
    """What the trimesh path makes of raw arrays, or its error message."""
    try:
        return part_from_trimesh(trimesh.Trimesh(vertices, faces, process=True), "m")
    except MeshError as exc:
        return str(exc)


def _ours(vertices: np.ndarray, faces: np.ndarray) -> Part | str:
    try:
        return part_from_arrays(vertices, faces, "m")
    except MeshError as exc:
        return str(exc)


def _damaged(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A few bodies (boxes, spheres, nested or overlapping or apart), unmerged, with random
    damage: flipped bodies or triangles, lost, doubled or degenerate triangles."""
    bodies = []
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.5:
            body = trimesh.creation.box(extents=rng.uniform(1, 10, 3))
        else:
            body = trimesh.creation.icosphere(subdivisions=1, radius=float(rng.uniform(1, 5)))
        body.apply_translation(rng.choice([0.0, 3.0, 20.0]) * rng.normal(size=3))
        if rng.random() < 0.3:
            body.invert()
        bodies.append(body)
    mesh = trimesh.util.concatenate(bodies)
    tri = mesh.vertices[mesh.faces]
    damage = int(rng.integers(0, 6))
    if damage == 1:  # a lost triangle: a small hole
        tri = np.delete(tri, int(rng.integers(len(tri))), axis=0)
    elif damage == 2:  # one triangle wound the wrong way
        i = int(rng.integers(len(tri)))
        tri[i] = tri[i, ::-1]
    elif damage == 3:  # doubled triangles, either way round
        i = rng.integers(len(tri), size=3)
        tri = np.concatenate([tri, tri[i], tri[i[:1], ::-1]])
    elif damage == 4:  # a sliver: a triangle split at a point on one side, flat half kept
        i = int(rng.integers(len(tri)))
        a, b, c = tri[i]
        m = (a + b) / 2
        tri = np.concatenate([np.delete(tri, i, axis=0), [[a, m, c], [m, b, c], [a, b, m]]])
    elif damage == 5:  # a big hole
        tri = tri[len(tri) // 3 :]
    order = rng.permutation(len(tri)) if rng.random() < 0.5 else np.arange(len(tri))
    tri = tri[order]
    return tri.reshape(-1, 3), np.arange(3 * len(tri)).reshape(-1, 3)


@pytest.mark.parametrize("seed", range(40))
def test_part_from_arrays_matches_the_trimesh_path(seed: int) -> None:
    vertices, faces = _damaged(np.random.default_rng(seed))
    want, got = _reference(vertices, faces), _ours(vertices, faces)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
    else:
        assert _same(got, want)


def test_fast_path_flips_inside_out_bodies_and_keeps_nested_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outer = trimesh.creation.box(extents=(20, 20, 20))
    outer.invert()  # inside out: flipped
    cavity = trimesh.creation.box(extents=(10, 10, 10))
    cavity.invert()  # a void: nested, closed, negative: trimesh flips it too
    ball = trimesh.creation.icosphere(radius=2.0)
    mesh = trimesh.util.concatenate([outer, cavity, ball])
    want = part_from_trimesh(mesh, "nested")
    monkeypatch.setattr(mesh_io, "_trimesh_part", _no_trimesh)
    got = part_from_arrays(mesh.vertices, mesh.faces, "nested")
    assert _same(got, want) and got.volume_mm3 > 0


def test_sliver_holes_stay_on_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchy's kind of open edges: a flat triangle across a T-junction, dropped as
    degenerate, leaves a three-edge loop that trimesh cannot fill either."""
    ball = trimesh.creation.icosphere(subdivisions=3)  # enough edges for 3 open ones
    tri = ball.vertices[ball.faces]
    a, b, c = tri[0]
    m = (a + b) / 2
    tri = np.concatenate([tri[1:], [[a, m, c], [m, b, c], [a, b, m]]])
    vertices, faces = tri.reshape(-1, 3), np.arange(3 * len(tri)).reshape(-1, 3)
    want = _reference(vertices, faces)
    monkeypatch.setattr(mesh_io, "_trimesh_part", _no_trimesh)
    got = part_from_arrays(vertices, faces, "m")
    assert isinstance(want, Part) and _same(got, want)
    assert open_edge_count(got.faces) == 3


@pytest.mark.parametrize("damage", ["hole", "winding", "overlap", "pinch", "non-manifold"])
def test_meshes_that_need_repair_go_to_trimesh(
    damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = trimesh.creation.box(extents=(10, 10, 10))
    v, f = np.asarray(box.vertices), np.asarray(box.faces)
    if damage == "hole":
        f = f[1:]
    elif damage == "winding":
        f = np.vstack([f[:1, ::-1], f[1:]])
    elif damage == "overlap":
        v, f = np.vstack([v, v + 5]), np.vstack([f, f + len(v)])
    elif damage == "pinch":  # two boxes touching at a corner
        v, f = np.vstack([v, v - v[0] + v[7] - v[0] + v[0]]), np.vstack([f, f + len(v)])
    else:
        f = np.vstack([f, f[:2] + 0, np.array([[0, 1, 7]])])
    calls: list[int] = []
    real = mesh_io._trimesh_part

    def spy(*args: object, **kwargs: object) -> Part:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mesh_io, "_trimesh_part", spy)
    want, got = _reference(v, f), _ours(v, f)
    assert calls == [1]
    assert got == want if isinstance(want, str) else _same(got, want)  # type: ignore[arg-type]


def test_part_from_arrays_refuses_missing_vertices() -> None:
    with pytest.raises(MeshError, match="m: triangles refer to vertex 5, but there are 3"):
        part_from_arrays(np.eye(3), np.array([[0, 1, 5]]), "m")
