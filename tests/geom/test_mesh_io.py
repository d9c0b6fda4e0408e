"""Reading meshes into Parts: formats, units, repairs and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from fabthread.errors import MeshError
from fabthread.geom.mesh_io import load_mesh, open_edge_count, part_from_trimesh
from fabthread.geom.place import fits, place_on_bed

MESHES = Path("/work/shared/meshes")


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
