"""The seam kernel against its numpy twin on seeded random loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fabthread.slice.kernels.seam import MODE_NEAREST, MODE_REAR, seam_index
from fabthread.slice.seams import CORNER_BONUS_MM, seam_loop


def concavity(xy: np.ndarray) -> np.ndarray:
    """float64 (n,): the concave turn angle (radians, 0 for convex or straight) at each vertex
    of the closed loop ``xy`` (n, 2) whose material lies on its left."""
    prev = xy - np.roll(xy, 1, axis=0)
    nxt = np.roll(xy, -1, axis=0) - xy
    cross = prev[:, 0] * nxt[:, 1] - prev[:, 1] * nxt[:, 0]
    dot = (prev * nxt).sum(axis=1)
    return np.maximum(0.0, -np.arctan2(cross, dot))


def test_concavity_of_an_l_shape() -> None:
    ell = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]], dtype=float)  # CCW
    c = concavity(ell)
    assert c[3] == pytest.approx(math.pi / 2) and np.all(np.delete(c, 3) == 0)


def twin(xy: np.ndarray, targets: np.ndarray, mode: int, fresh: bool) -> int:
    bonus = CORNER_BONUS_MM * concavity(xy)
    if mode == MODE_REAR:
        cost = (xy[:, 1].max() - xy[:, 1]) + 0.01 * np.abs(xy[:, 0] - xy[:, 0].mean()) - bonus
    else:
        d = np.sqrt(((xy[:, None, :] - targets[None, :, :]) ** 2).sum(axis=2).min(axis=1))
        cost = (1e-3 * d if fresh else d) - bonus
    return int(np.argmin(cost))


def _star(rng: np.random.Generator, n: int) -> np.ndarray:
    """A star-shaped loop (counter-clockwise) with concave and convex corners, mm."""
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(5.0, 20.0, n)
    return np.round(np.c_[r * np.cos(a), r * np.sin(a)] * 1000.0) / 1000.0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", [MODE_NEAREST, MODE_REAR])
@pytest.mark.parametrize("fresh", [False, True])
def test_seam_index_matches_twin(seed: int, mode: int, fresh: bool) -> None:
    rng = np.random.default_rng(700 + seed)
    xy = _star(rng, int(rng.integers(3, 60)))
    targets = rng.uniform(-25, 25, (int(rng.integers(1, 6)), 2))
    assert seam_index(xy, targets, mode, fresh, CORNER_BONUS_MM) == twin(xy, targets, mode, fresh)


def test_seam_loop_starts_and_ends_at_the_seam() -> None:
    # an L (counter-clockwise): its one concave corner is (10, 10); aligned to a target next
    # to it, the seam goes there
    ell = np.array([[0, 0], [20, 0], [20, 10], [10, 10], [10, 20], [0, 20]]) * 1000
    pts = seam_loop(ell, "aligned", np.array([[11.0, 11.0]]))
    assert pts[0].tolist() == [10.0, 10.0] and pts[-1].tolist() == [10.0, 10.0]
    assert len(pts) == len(ell) + 1
    rear = seam_loop(ell, "rear", np.zeros((1, 2)))
    assert rear[0][1] == 20.0
