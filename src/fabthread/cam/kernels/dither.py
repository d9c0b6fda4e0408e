"""Floyd–Steinberg error diffusion: a darkness image (0..1) to on/off laser pixels.

``img`` float64 (h, w): darkness of each pixel, 0 white .. 1 black, row 0 first. Each pixel
becomes 1 (burn) when its darkness plus the error diffused into it reaches ``threshold``, else
0; the difference is pushed to the unvisited neighbours with the classic weights 7/16 (ahead),
3/16 (below, behind), 5/16 (below), 1/16 (below, ahead). ``serpentine`` scans odd rows right to
left (mirrored weights), which breaks up the diagonal "worms" of a one-way scan. Error that
would leave the image is dropped, so the mean darkness is kept up to the border losses.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def floyd_steinberg(img: np.ndarray, threshold: float, serpentine: bool) -> np.ndarray:
    """uint8 (h, w) of 0/1 (1: burn) for float64 (h, w) darkness ``img`` (not modified)."""
    h, w = img.shape
    work = img.copy()
    out = np.zeros((h, w), dtype=np.uint8)
    for r in range(h):
        backwards = serpentine and (r % 2 == 1)
        step = -1 if backwards else 1
        for k in range(w):
            c = w - 1 - k if backwards else k
            old = work[r, c]
            new = 1.0 if old >= threshold else 0.0
            out[r, c] = np.uint8(new)
            err = old - new
            ahead = c + step
            behind = c - step
            if 0 <= ahead < w:
                work[r, ahead] += err * (7.0 / 16.0)
            if r + 1 < h:
                if 0 <= behind < w:
                    work[r + 1, behind] += err * (3.0 / 16.0)
                work[r + 1, c] += err * (5.0 / 16.0)
                if 0 <= ahead < w:
                    work[r + 1, ahead] += err * (1.0 / 16.0)
    return out
