"""A small reader for the CNC/laser programs we write (tests only): absolute positions, with
G83 expanded the way LinuxCNC runs it (fabthread.model.cam.peck_steps)."""

from __future__ import annotations

import re

import numpy as np

from fabthread.model.cam import peck_steps

_WORD = re.compile(r"([A-Z])(-?\d+(?:\.\d*)?)")


def read(text: str) -> dict:
    pos = {"X": np.nan, "Y": np.nan, "Z": np.nan}
    moves, words, s_values = [], [], []
    for line in text.splitlines():
        code = line.split(";")[0].strip()
        if not code:
            continue
        ws = _WORD.findall(code)
        vals = {k: float(v) for k, v in ws}
        gs = [f"G{int(float(v))}" if float(v).is_integer() else f"G{v}" for k, v in ws if k == "G"]
        words += gs + [f"M{int(float(v))}" for k, v in ws if k == "M"]
        if "G83" in gs:
            z0 = pos["Z"]
            x, y = vals["X"], vals["Y"]
            if abs(x - pos["X"]) > 1e-9 or abs(y - pos["Y"]) > 1e-9:
                moves.append((x, y, z0, 0))  # preliminary XY move at the initial height
            moves.append((x, y, vals["R"], 0))
            for feed, z in peck_steps(vals["R"], vals["Z"], vals["Q"]):
                moves.append((x, y, z, 1 if feed else 0))
            moves.append((x, y, z0, 0))
            pos.update(X=x, Y=y, Z=z0)
            continue
        if "G0" in gs or "G1" in gs:
            for k in "XYZ":
                if k in vals:
                    pos[k] = vals[k]
            moves.append((pos["X"], pos["Y"], pos["Z"], 0 if "G0" in gs else 1))
            if "S" in vals:
                s_values.append(vals["S"])
    return {"moves": np.array(moves), "words": words, "s": s_values}
