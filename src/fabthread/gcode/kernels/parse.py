"""Numba kernel: G-code bytes -> moves (a small interpreter of the motion subset).

Understood: G0/G1 (lines), G2/G3 (arcs in the XY plane, I/J centre offsets or R radius,
helical Z), G4 (dwell), G20/G21 (inch/mm), G28 (home: the homed axes become 0), G90/G91,
G92 (with no axes: all axes zero), M82/M83, and the acceleration commands: ``M204`` (``S``
both, ``P`` printing moves, ``T`` travel moves: Marlin's and RRF's reading) and Klipper's
``SET_VELOCITY_LIMIT ACCEL=``. Everything else (temperatures, fans, macros such as
``PRINT_START``) is skipped. Comments: ``;`` to the end of the line and ``( ... )``; ``N``
line numbers and ``*`` checksums are ignored. Words need no spaces between them (``X1Y2``).

E is relative when ``M83`` or ``G91`` is in effect (Marlin and Klipper agree on this).
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import helper, kernel

KIND_TRAVEL = 0
KIND_EXTRUDE = 1
KIND_RETRACT = 2
KIND_UNRETRACT = 3

ERR_NUMBER = 1  # a word letter without a well-formed number after it
ERR_CHAR = 2  # a character that starts no word
ERR_ARC = 3  # G2/G3 without I/J or R, or with a radius shorter than half the chord

# Slots of the per-line word table.
_X, _Y, _Z, _E, _F, _I, _J, _R, _P, _S, _T = range(11)
_NSLOT = 11

#: ``SET_VELOCITY_LIMIT`` and its ``ACCEL=`` parameter, upper case.
_SVL = np.frombuffer(b"SET_VELOCITY_LIMIT", dtype=np.uint8)
_ACCEL = np.frombuffer(b"ACCEL=", dtype=np.uint8)


#: The slot of each (upper-case) word letter, -1 for letters that have none.
_SLOT_OF = np.full(256, -1, dtype=np.int64)
_SLOT_OF[np.frombuffer(b"XYZEFIJRPST", dtype=np.uint8)] = np.arange(_NSLOT)


@helper
def _upper(c: int) -> int:
    return c - 32 if 97 <= c <= 122 else c


@helper
def _is_digit(c: int) -> bool:
    return 48 <= c <= 57


@helper
def _parse_words(data: np.ndarray, k: int, end: int, val: np.ndarray) -> tuple[int, int, int]:
    """Words of data[k:end]: their numbers into ``val`` (by slot).

    Returns (0 or an ERR_* code, seen, flag): bit masks of the slots that had a number and
    of those that had a letter without one. Letters other than the slots are parsed and
    dropped."""
    seen = 0
    flag = 0
    while k < end:
        c = data[k]
        if c == 32 or c == 9 or c == 13:
            k += 1
            continue
        if c == 40:  # '(' comment
            while k < end and data[k] != 41:
                k += 1
            k += 1
            continue
        c = _upper(c)
        if not (65 <= c <= 90):
            return ERR_CHAR, seen, flag
        k += 1
        # number: [+-]? digits [. digits]
        neg = False
        if k < end and (data[k] == 45 or data[k] == 43):
            neg = data[k] == 45
            k += 1
        v, nd, k = _unsigned_number(data, k, end)
        s = _SLOT_OF[c]
        if nd == 0:
            if neg or (k < end and data[k] == 46):
                return ERR_NUMBER, seen, flag
            nxt = data[k] if k < end else 32
            if not (nxt == 32 or nxt == 9 or nxt == 13 or nxt == 40 or 65 <= _upper(nxt) <= 90):
                return ERR_NUMBER, seen, flag
            if s >= 0:
                flag |= 1 << s
            continue
        if k < end:
            nxt = _upper(data[k])
            if not (nxt == 32 or nxt == 9 or nxt == 13 or nxt == 40 or 65 <= nxt <= 90):
                return ERR_NUMBER, seen, flag
        if s >= 0:
            val[s] = -v if neg else v
            seen |= 1 << s
    return 0, seen, flag


@helper
def _has(mask: int, slot: int) -> bool:
    return (mask >> slot) & 1 == 1


@helper
def _unsigned_number(data: np.ndarray, k: int, end: int) -> tuple[float, int, int]:
    """Read ``digits [. digits]`` from data[k:end]: (value, digit count, index after it)."""
    v = 0.0
    nd = 0
    while k < end and _is_digit(data[k]):
        v = v * 10.0 + (data[k] - 48)
        nd += 1
        k += 1
    if k < end and data[k] == 46:
        k += 1
        scale = 1.0
        while k < end and _is_digit(data[k]):
            v = v * 10.0 + (data[k] - 48)
            scale *= 10.0
            nd += 1
            k += 1
        v /= scale
    return v, nd, k


@helper
def _starts_with(data: np.ndarray, k: int, end: int, pat: np.ndarray) -> bool:
    if pat.shape[0] == 0 or end - k < pat.shape[0]:
        return False
    for t in range(pat.shape[0]):
        if data[k + t] != pat[t]:
            return False
    return True


@helper
def _starts_with_upper(data: np.ndarray, k: int, end: int, pat: np.ndarray) -> bool:
    """Whether data[k:end] starts with ``pat`` (upper case), ignoring the case of data."""
    if end - k < pat.shape[0]:
        return False
    for t in range(pat.shape[0]):
        if _upper(data[k + t]) != pat[t]:
            return False
    return True


@helper
def _accel_param(data: np.ndarray, k: int, end: int) -> float:
    """The value of the ``ACCEL=`` parameter in data[k:end] (Klipper extended command
    syntax), or -1 when there is none or it is not a number."""
    while k < end:
        if (k == 0 or data[k - 1] == 32 or data[k - 1] == 9) and _starts_with_upper(
            data, k, end, _ACCEL
        ):
            v, nd, k = _unsigned_number(data, k + _ACCEL.shape[0], end)
            return v if nd > 0 else -1.0
        k += 1
    return -1.0


@kernel(
    "u1[:], u1[:], f8[:, :], f8[:, :], f8[:], f8[:], f8[:], u1[:], i4[:], i4[:], "
    "f8[:, :], f8[:, :], f8[:], f8[:], f8[:, :]",
    returns="Tuple((i8, f8, i8, i8, i8))",
)
def parse_gcode(
    data: np.ndarray,
    marker: np.ndarray,
    start: np.ndarray,
    endp: np.ndarray,
    e_out: np.ndarray,
    feed_out: np.ndarray,
    length: np.ndarray,
    kind: np.ndarray,
    layer_out: np.ndarray,
    line_out: np.ndarray,
    dir0: np.ndarray,
    dir1: np.ndarray,
    radius: np.ndarray,
    accel_out: np.ndarray,
    centre_out: np.ndarray,
) -> tuple[int, float, int, int, int]:
    """Interpret G-code bytes into the move arrays given (filled from row 0).

    data: uint8 (bytes,) the file; marker: uint8 (m,) comment text (after ';') that starts a
    layer, e.g. b"LAYER_CHANGE" (empty: a layer starts where extrusion happens at a new Z).
    Outputs, each with at least one row per line of ``data``: start, endp float64 (n, 3)
    positions in mm (machine coordinates, G92 offsets applied); e_out float64 (n,) mm of
    filament; feed_out float64 (n,) modal F in mm/min (0 if never set); length float64 (n,)
    XYZ path length in mm (arc length for arcs); kind uint8 (n,) KIND_*; layer_out int32 (n,)
    (-1 before the first layer); line_out int32 (n,) 1-based; dir0, dir1 float64 (n, 3) unit
    XYZ direction at the start and end of the move (zero for E-only moves); radius float64
    (n,) of arcs (0 for lines); accel_out float64 (n,) the acceleration commanded for the move
    (mm/s², by M204 or SET_VELOCITY_LIMIT: the printing value for XYZ moves with E, the travel
    value for XYZ moves without; 0 when none was commanded and for E-only moves); centre_out
    float64 (n, 2) XY centre of arcs (machine coordinates). dir0/dir1/radius/centre_out rows
    must be zero on entry.

    Returns (count, dwell_s, layers, err, err_line): the number of rows filled, total G4
    dwell in s, the number of layers seen, and 0 or an ERR_* code for line ``err_line``.
    """
    val = np.zeros(_NSLOT)
    acc_print = 0.0  # commanded accelerations, 0: none yet
    acc_travel = 0.0
    pos = np.zeros(3)  # machine position
    off = np.zeros(3)  # machine = logical + off
    tgt = np.zeros(3)
    e_pos = 0.0
    feed = 0.0
    units = 1.0
    abs_xyz = True
    abs_e = True
    layer = -1
    layer_z = -1e300
    dwell = 0.0
    count = 0
    err_code = 0
    use_marker = marker.shape[0] > 0
    nbytes = data.shape[0]
    i = 0
    line_no = 0
    while i < nbytes:
        line_no += 1
        a = i
        # one pass over the code: it ends at ';' or the newline, a '*' (checksum) ends it
        # early; then the ';' comment to the newline
        star = -1
        j = a
        while j < nbytes:
            c = data[j]
            if c == 10 or c == 59:
                break
            if c == 42 and star < 0:
                star = j
            j += 1
        code_end = j
        if j < nbytes and data[j] == 59:
            if use_marker and _starts_with(data, j + 1, nbytes, marker):
                layer += 1  # (the marker holds no newline: it cannot match past the line)
            while j < nbytes and data[j] != 10:
                j += 1
        i = j + 1
        b = code_end
        k = a
        while k < b and (data[k] == 32 or data[k] == 9):
            k += 1
        # N line number
        if k < b and _upper(data[k]) == 78 and k + 1 < b and _is_digit(data[k + 1]):
            k += 1
            while k < b and _is_digit(data[k]):
                k += 1
            while k < b and (data[k] == 32 or data[k] == 9):
                k += 1
        if star >= 0:
            b = star  # (blanks and N digits hold no '*': star >= k)
        if k >= b:
            continue
        letter = _upper(data[k])
        if letter == 83 and _starts_with_upper(data, k, b, _SVL):
            acc = _accel_param(data, k + _SVL.shape[0], b)
            if acc > 0.0:
                acc_print = acc
                acc_travel = acc
            continue
        if (letter != 71 and letter != 77) or k + 1 >= b or not _is_digit(data[k + 1]):
            continue  # T, extended commands (PRINT_START ...), blank
        k += 1
        code = 0
        while k < b and _is_digit(data[k]):
            code = code * 10 + (data[k] - 48)
            k += 1
        if k < b and data[k] == 46:  # subcode (M862.3): not a motion command
            continue
        if letter == 77:
            if code == 82:
                abs_e = True
            elif code == 83:
                abs_e = False
            elif code == 204:
                err, seen, flag = _parse_words(data, k, b, val)
                if err == 0:
                    if _has(seen, _S) and val[_S] > 0.0:
                        acc_print = val[_S]
                        acc_travel = val[_S]
                    if _has(seen, _P) and val[_P] > 0.0:
                        acc_print = val[_P]
                    if _has(seen, _T) and val[_T] > 0.0:
                        acc_travel = val[_T]
            continue
        if code == 90:
            abs_xyz = True
            continue
        if code == 91:
            abs_xyz = False
            continue
        if code == 20:
            units = 25.4
            continue
        if code == 21:
            units = 1.0
            continue
        if code > 4 and code != 28 and code != 92:
            continue
        err, seen, flag = _parse_words(data, k, b, val)
        if err == 0 and code != 28 and flag != 0:
            err = ERR_NUMBER
        if err != 0:
            err_code = err
            break
        if code == 4:
            if _has(seen, _P):
                dwell += val[_P] / 1000.0
            if _has(seen, _S):
                dwell += val[_S]
            continue
        if code == 28:
            homed_any = False
            for ax in range(3):
                if _has(seen, ax) or _has(flag, ax):
                    homed_any = True
            for ax in range(3):
                if not homed_any or _has(seen, ax) or _has(flag, ax):
                    pos[ax] = 0.0
                    off[ax] = 0.0
            continue
        if code == 92:
            any_axis = False
            for ax in range(3):
                if _has(seen, ax):
                    off[ax] = pos[ax] - val[ax] * units
                    any_axis = True
            if _has(seen, _E):
                e_pos = val[_E] * units
                any_axis = True
            if not any_axis:
                for ax in range(3):
                    off[ax] = pos[ax]
                e_pos = 0.0
            continue
        # G0..G3
        if _has(seen, _F):
            feed = val[_F] * units
        moved = False
        for ax in range(3):
            tgt[ax] = pos[ax]
            if _has(seen, ax):
                moved = True
                if abs_xyz:
                    tgt[ax] = val[ax] * units + off[ax]
                else:
                    tgt[ax] = pos[ax] + val[ax] * units
        de = 0.0
        if _has(seen, _E):
            moved = True
            ev = val[_E] * units
            if abs_e and abs_xyz:
                de = ev - e_pos
                e_pos = ev
            else:
                de = ev
                e_pos += ev
        is_arc = code == 2 or code == 3
        if not moved and not is_arc:
            continue
        dx = tgt[0] - pos[0]
        dy = tgt[1] - pos[1]
        dz = tgt[2] - pos[2]
        r_arc = 0.0
        cx = 0.0
        cy = 0.0
        if is_arc:
            if _has(seen, _I) or _has(seen, _J):
                cx = pos[0] + (val[_I] * units if _has(seen, _I) else 0.0)
                cy = pos[1] + (val[_J] * units if _has(seen, _J) else 0.0)
            elif _has(seen, _R):
                rr = val[_R] * units
                chord = math.sqrt(dx * dx + dy * dy)
                if chord == 0.0 or chord > 2.0 * abs(rr) * (1.0 + 1e-6):
                    err_code = ERR_ARC
                    break
                h2 = rr * rr - 0.25 * chord * chord
                h = math.sqrt(h2) if h2 > 0.0 else 0.0
                side = 1.0 if code == 3 else -1.0  # CCW: centre on the left of the chord
                if rr < 0.0:
                    side = -side
                cx = pos[0] + 0.5 * dx - side * h * dy / chord
                cy = pos[1] + 0.5 * dy + side * h * dx / chord
            else:
                err_code = ERR_ARC
                break
            rx0 = pos[0] - cx
            ry0 = pos[1] - cy
            rx1 = tgt[0] - cx
            ry1 = tgt[1] - cy
            r_arc = math.sqrt(rx0 * rx0 + ry0 * ry0)
            a0 = math.atan2(ry0, rx0)
            a1 = math.atan2(ry1, rx1)
            sweep = (a1 - a0) if code == 3 else (a0 - a1)
            if sweep <= 1e-12:
                sweep += 2.0 * math.pi
            lxy = r_arc * sweep
            dist = math.sqrt(lxy * lxy + dz * dz)
            if dist > 0.0 and r_arc > 0.0:
                sgn = 1.0 if code == 3 else -1.0
                # tangent of a CCW arc at p is (-(py - cy), px - cx) / r
                dir0[count, 0] = -sgn * ry0 / r_arc * lxy / dist
                dir0[count, 1] = sgn * rx0 / r_arc * lxy / dist
                dir0[count, 2] = dz / dist
                r1 = math.sqrt(rx1 * rx1 + ry1 * ry1)
                if r1 > 0.0:
                    dir1[count, 0] = -sgn * ry1 / r1 * lxy / dist
                    dir1[count, 1] = sgn * rx1 / r1 * lxy / dist
                dir1[count, 2] = dz / dist
        else:
            dist = math.sqrt(dx * dx + dy * dy + dz * dz)
            if dist > 0.0:
                dir0[count, 0] = dx / dist
                dir0[count, 1] = dy / dist
                dir0[count, 2] = dz / dist
                dir1[count, 0] = dx / dist
                dir1[count, 1] = dy / dist
                dir1[count, 2] = dz / dist
        if dist == 0.0 and de == 0.0:
            continue
        for ax in range(3):
            start[count, ax] = pos[ax]
            endp[count, ax] = tgt[ax]
            pos[ax] = tgt[ax]
        e_out[count] = de
        feed_out[count] = feed
        length[count] = dist
        radius[count] = r_arc
        if is_arc:
            centre_out[count, 0] = cx
            centre_out[count, 1] = cy
        if dist > 0.0:
            accel_out[count] = acc_print if de != 0.0 else acc_travel
        else:
            accel_out[count] = 0.0
        line_out[count] = line_no
        if dist > 0.0:
            if de > 0.0:
                kind[count] = KIND_EXTRUDE
                if not use_marker and abs(tgt[2] - layer_z) > 1e-6:
                    layer += 1
                    layer_z = tgt[2]
            elif de < 0.0:
                kind[count] = KIND_RETRACT
            else:
                kind[count] = KIND_TRAVEL
        else:
            kind[count] = KIND_RETRACT if de < 0.0 else KIND_UNRETRACT
        layer_out[count] = layer
        count += 1
    return count, dwell, layer + 1, err_code, line_no if err_code != 0 else 0
