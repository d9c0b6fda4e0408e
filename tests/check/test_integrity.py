from __future__ import annotations

import numpy as np
import trimesh
from checkkit import box, part, rules

from fabthread.check.integrity import check_integrity


def test_closed_box_has_no_integrity_findings(fdm) -> None:
    assert check_integrity(part(box((0, 0, 0), (20, 20, 20))), fdm) == []


def test_box_with_a_face_removed_is_open_and_says_where(fdm) -> None:
    b = box((0, 0, 0), (20, 20, 20))
    top = int(np.argmax(b.face_normals[:, 2]))
    found = check_integrity(part(b, faces=np.delete(b.faces, top, axis=0)), fdm)
    (open_edges,) = [f for f in found if f.rule == "open_edges"]
    assert open_edges.severity == "error"
    assert open_edges.measured == 3  # the missing triangle's three edges
    assert all(abs(p[2] - 20) < 1e-9 for p in open_edges.location)  # on the top face


def test_flipped_winding_is_inside_out(fdm) -> None:
    b = box((0, 0, 0), (10, 10, 10))
    found = check_integrity(part(b, faces=b.faces[:, ::-1]), fdm)
    assert rules(found) == {"inside_out"}
    assert found[0].measured < 0


def test_one_flipped_triangle_is_inconsistent_winding(fdm) -> None:
    b = box((0, 0, 0), (10, 10, 10))
    faces = b.faces.copy()
    faces[0] = faces[0][::-1]
    found = check_integrity(part(b, faces=faces), fdm)
    assert "inconsistent_winding" in rules(found, "error")
    assert "inside_out" not in rules(found)


def test_edge_shared_by_three_triangles_is_non_manifold(fdm) -> None:
    b = box((0, 0, 0), (10, 10, 10))
    v0, v1 = b.faces[0][:2]
    extra = np.vstack([b.vertices, [[50.0, 50.0, 50.0]]])
    faces = np.vstack([b.faces, [[v0, v1, len(b.vertices)]]])
    found = check_integrity(part(trimesh.Trimesh(extra, process=False), faces=faces), fdm)
    assert "non_manifold_edges" in rules(found, "error")


def test_two_intersecting_boxes_self_intersect_at_the_crossing(fdm) -> None:
    both = trimesh.util.concatenate([box((0, 0, 0), (20, 20, 20)), box((10, 10, 10), (30, 30, 30))])
    found = check_integrity(part(both), fdm)
    (hit,) = [f for f in found if f.rule == "self_intersection"]
    assert hit.severity == "error" and hit.measured > 0
    # every reported point lies on the boundary of both boxes' overlap [10, 20]^3
    pts = np.array(hit.location)
    assert np.all((pts >= 10 - 1e-6) & (pts <= 20 + 1e-6))


def test_two_separate_boxes_do_not_self_intersect(fdm) -> None:
    both = trimesh.util.concatenate([box((0, 0, 0), (10, 10, 10)), box((20, 0, 0), (30, 10, 10))])
    assert check_integrity(part(both), fdm) == []


def test_degenerate_triangle_is_a_warning(fdm) -> None:
    b = box((0, 0, 0), (10, 10, 10))
    faces = np.vstack([b.faces, [[0, 0, 1]]])
    found = check_integrity(part(b, faces=faces), fdm)
    assert rules(found, "warning") == {"degenerate_faces"}
