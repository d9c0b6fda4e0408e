"""Numba kernel: toolpath rows -> G-code move lines as ASCII bytes.

Numbers arrive as scaled integers (coordinates and feeds in 1e-3 units, E in 1e-5 units) that
Python rounded once; the kernel only writes digits. Trailing zeros are dropped ("X10.5",
"F2400"), as slicers do, to keep files small.

Besides lines (G0/G1) a row can be an arc (G2/G3 with I/J, from ``kernels/arcs.py``) or be
skipped (absorbed into the arc before it), and can be preceded by one of a few fixed lines
(acceleration commands) that the caller rendered.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, inline_helper, kernel

# Row modes.
MODE_TRAVEL = 0  # G0 X Y [Z] [F]
MODE_EXTRUDE = 1  # G1 X Y [Z] E [F]
MODE_MOVE = 2  # G1 X Y [Z] [F], no extrusion (wipe)

# Arc codes per row.
ARC_NONE = 0  # a line
ARC_SKIP = 1  # nothing: the row is part of the arc written for an earlier row
ARC_CW = 2  # G2 X Y I J E [F]: clockwise arc (MODE_EXTRUDE rows only)
ARC_CCW = 3  # G3 ...: counter-clockwise

_ROW_MAX = 1024  # upper bound of the bytes one row can produce (5 lines of 5 words)


@helper
def _put(buf: np.ndarray, pos: int, c: int) -> int:
    buf[pos] = c
    return pos + 1


@inline_helper
def _put_num(buf: np.ndarray, pos: int, q: int, ndec: int) -> int:
    """Write the scaled integer ``q`` (value * 10**ndec) as a decimal, trailing zeros cut."""
    if q < 0:
        buf[pos] = 45  # '-'
        pos += 1
        q = -q
    scale = 1
    for _ in range(ndec):
        scale *= 10
    ip = q // scale
    fp = q % scale
    # integer part, written right to left after counting its digits
    k = 1
    t = ip // 10
    while t > 0:
        t //= 10
        k += 1
    for j in range(k - 1, -1, -1):
        buf[pos + j] = 48 + ip % 10
        ip //= 10
    pos += k
    if fp != 0:
        nd = ndec
        while fp % 10 == 0:
            fp //= 10
            nd -= 1
        buf[pos] = 46  # '.'
        pos += 1
        for j in range(nd - 1, -1, -1):
            buf[pos + j] = 48 + fp % 10
            fp //= 10
        pos += nd
    return pos


@helper
def _put_word(buf: np.ndarray, pos: int, letter: int, q: int, ndec: int) -> int:
    buf[pos] = 32  # ' '
    buf[pos + 1] = letter
    return _put_num(buf, pos + 2, q, ndec)


@helper
def _put_cmd(buf: np.ndarray, pos: int, g: int) -> int:
    buf[pos] = 71  # 'G'
    buf[pos + 1] = 48 + g
    return pos + 2


@kernel(
    "i8[:, :], i8[:], i8[:], u1[:], b1[:], i8[:], i8, i8, i8, i8, i8, "
    "u1[:], i8[:, :], i8[:], u1[:], i8[:]",
    returns="Tuple((u1[:], i8[:]))",
)
def format_moves(
    q_xyz: np.ndarray,
    q_feed: np.ndarray,
    q_e: np.ndarray,
    mode: np.ndarray,
    retract: np.ndarray,
    q_ret: np.ndarray,
    q_ret_len: int,
    q_ret_feed: int,
    q_unret_feed: int,
    q_hop: int,
    q_zmax: int,
    arc: np.ndarray,
    q_ij: np.ndarray,
    pre: np.ndarray,
    pre_text: np.ndarray,
    pre_start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Write one block of G-code lines per toolpath row.

    q_xyz: int64 (n, 3) end points in µm (mm * 1000, rounded); q_feed: int64 (n,) feed in
    mm/min * 1000; q_e: int64 (n,) filament per row in mm * 1e5 (written for MODE_EXTRUDE,
    and for MODE_MOVE when not 0: a wipe that retracts as it moves); mode: uint8 (n,) MODE_*;
    retract: bool (n,) on travels: z-hop over the row and unretract ``q_ret_len`` after it;
    q_ret: int64 (n,) filament retracted in place before the row (mm * 1e5, 0: none; the
    whole retraction before a travel, or what a wipe leaves). q_ret_feed / q_unret_feed
    (mm/min * 1000): retraction feeds; q_hop, q_zmax (mm * 1000): z-hop height (0: none) and
    the highest Z the hop may reach.
    arc: uint8 (n,) ARC_* per row; q_ij: int64 (n, 2) arc centre minus start point in µm (for
    ARC_CW/ARC_CCW rows). pre: int64 (n,) index of a line to write before the row (-1: none);
    pre_text: uint8 (m,) those lines, concatenated, each ending in "\\n"; pre_start: int64
    (k + 1,) offsets of line k in pre_text.

    F is written only when it changes, Z only when it changes (the first row always writes
    both). Returns ``buf`` uint8 (bytes,) ASCII text and ``row_start`` int64 (n + 1,): row i
    is ``buf[row_start[i]:row_start[i + 1]]``, each line ending in "\\n".
    """
    n = q_xyz.shape[0]
    pre_max = 0
    for k in range(pre_start.shape[0] - 1):
        pre_max = max(pre_max, pre_start[k + 1] - pre_start[k])
    buf = np.empty(n * 48 + 4 * _ROW_MAX + pre_max, dtype=np.uint8)
    row_start = np.empty(n + 1, dtype=np.int64)
    pos = 0
    cur_f = -1
    cur_z = 0
    z_known = False
    for i in range(n):
        if pos + _ROW_MAX + pre_max > buf.shape[0]:
            bigger = np.empty(buf.shape[0] * 2, dtype=np.uint8)
            bigger[:pos] = buf[:pos]
            buf = bigger
        row_start[i] = pos
        a = arc[i]
        if a == ARC_SKIP:
            continue
        p = pre[i]
        if p >= 0:
            for t in range(pre_start[p], pre_start[p + 1]):
                buf[pos] = pre_text[t]
                pos += 1
        x = q_xyz[i, 0]
        y = q_xyz[i, 1]
        z = q_xyz[i, 2]
        f = q_feed[i]
        m = mode[i]
        ret = retract[i] and m == MODE_TRAVEL
        travel_z = z
        if q_ret[i] > 0:
            pos = _put_cmd(buf, pos, 1)
            pos = _put_word(buf, pos, 69, -q_ret[i], 5)  # E
            pos = _put_word(buf, pos, 70, q_ret_feed, 3)  # F
            pos = _put(buf, pos, 10)
            cur_f = q_ret_feed
        if ret:
            if q_hop > 0:
                base = z
                if z_known and cur_z > base:
                    base = cur_z
                zh = base + q_hop
                if zh > q_zmax:
                    zh = q_zmax
                if zh < base:
                    zh = base
                if not z_known or zh != cur_z:
                    pos = _put_cmd(buf, pos, 0)
                    pos = _put_word(buf, pos, 90, zh, 3)  # Z
                    if f != cur_f:
                        pos = _put_word(buf, pos, 70, f, 3)
                        cur_f = f
                    pos = _put(buf, pos, 10)
                    cur_z = zh
                    z_known = True
                travel_z = zh
        # the move itself
        is_arc = (a == ARC_CW or a == ARC_CCW) and m == MODE_EXTRUDE
        if is_arc:
            pos = _put_cmd(buf, pos, a)
        else:
            pos = _put_cmd(buf, pos, 0 if m == MODE_TRAVEL else 1)
        pos = _put_word(buf, pos, 88, x, 3)  # X
        pos = _put_word(buf, pos, 89, y, 3)  # Y
        if not z_known or travel_z != cur_z:
            pos = _put_word(buf, pos, 90, travel_z, 3)
            cur_z = travel_z
            z_known = True
        if is_arc:
            pos = _put_word(buf, pos, 73, q_ij[i, 0], 3)  # I
            pos = _put_word(buf, pos, 74, q_ij[i, 1], 3)  # J
        if m == MODE_EXTRUDE or (m == MODE_MOVE and q_e[i] != 0):
            pos = _put_word(buf, pos, 69, q_e[i], 5)
        if f != cur_f:
            pos = _put_word(buf, pos, 70, f, 3)
            cur_f = f
        pos = _put(buf, pos, 10)
        if ret:
            if cur_z != z:
                pos = _put_cmd(buf, pos, 0)
                pos = _put_word(buf, pos, 90, z, 3)
                pos = _put(buf, pos, 10)
                cur_z = z
            pos = _put_cmd(buf, pos, 1)
            pos = _put_word(buf, pos, 69, q_ret_len, 5)
            pos = _put_word(buf, pos, 70, q_unret_feed, 3)
            pos = _put(buf, pos, 10)
            cur_f = q_unret_feed
    row_start[n] = pos
    return buf[:pos], row_start
