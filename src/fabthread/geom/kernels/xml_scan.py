"""Numba kernels for the bulk of a 3MF model: the attributes of ``<vertex>`` and
``<triangle>`` elements, and the numbers in them (``parse_floats`` also reads ASCII STL).

A 225k-triangle model holds 1M attribute values; pulling them out with regular expressions
and converting them with ``float``/``int`` one Python object at a time takes half a second,
these kernels tens of milliseconds.

Text is given as the bytes of the whole document (uint8) and positions as offsets into it.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, kernel

#: Exact powers of ten as float64 (10**22 is the largest one a double holds exactly).
_POW10 = np.array([float(10**i) for i in range(23)])
#: Largest mantissa with every integer up to it exact in a double: 2**53.
_MAX_EXACT = 9007199254740992

OK = 0
#: Error kinds of ``element_attributes``: text or another element among the elements; a
#: start or end tag that is not well-formed; an attribute given twice; a name missing.
UNEXPECTED = 1
MALFORMED = 2
DUPLICATE = 3
MISSING = 4


@helper
def _space(c: int) -> bool:
    return c == 32 or c == 9 or c == 10 or c == 13


@kernel("u1[:], i8, i8, u1[:], u1[:], i8[:]", returns="Tuple((i8[:, :], i8[:]))")
def element_attributes(
    buf: np.ndarray,
    start: int,
    end: int,
    tag: np.ndarray,
    names: np.ndarray,
    name_start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the values of some attributes of every ``tag`` element in ``buf[start:end]`` are.

    buf: uint8 document; the range must hold only ``tag`` elements (self-closing or with an
    end tag, attributes in any order, either quote) and white space; comments must be gone.
    tag: uint8 element name as written (with its prefix, if any). names: uint8, the k wanted
    attribute names concatenated, name a at ``names[name_start[a]:name_start[a + 1]]``;
    other attributes are skipped. Returns ``spans`` int64 (n, 2k): start and end offset of
    the value of name a (quotes excluded) at columns 2a, 2a + 1, and ``status`` int64 (3,):
    element count n, error kind (OK, UNEXPECTED, MALFORMED, DUPLICATE, MISSING) and the
    offset where the error is (spans are then empty).
    """
    k = name_start.shape[0] - 1
    tl = tag.shape[0]
    cap = 0
    for i in range(start, end):
        if buf[i] == 60:  # '<' never appears inside a value: an upper bound on elements
            cap += 1
    spans = np.full((cap, 2 * k), -1, dtype=np.int64)
    status = np.zeros(3, dtype=np.int64)
    n = 0
    pos = start
    while True:
        while pos < end and _space(buf[pos]):
            pos += 1
        if pos >= end:
            break
        status[2] = pos
        if buf[pos] != 60:
            status[1] = UNEXPECTED
            return spans[:0], status
        p = pos + 1
        closing = p < end and buf[p] == 47  # '/'
        if closing:
            p += 1
        if p + tl >= end:
            status[1] = UNEXPECTED
            return spans[:0], status
        for j in range(tl):
            if buf[p + j] != tag[j]:
                status[1] = UNEXPECTED
                return spans[:0], status
        p += tl
        c = buf[p]
        if not (_space(c) or c == 47 or c == 62):
            status[1] = UNEXPECTED  # a longer name: <vertexfoo
            return spans[:0], status
        if closing:
            while p < end and _space(buf[p]):
                p += 1
            if p >= end or buf[p] != 62 or n == 0:
                status[1] = MALFORMED
                return spans[:0], status
            pos = p + 1
            continue
        while True:
            while p < end and _space(buf[p]):
                p += 1
            if p >= end:
                status[1] = MALFORMED
                return spans[:0], status
            c = buf[p]
            if c == 62:  # '>'
                p += 1
                break
            if c == 47:  # '/>'
                if p + 1 < end and buf[p + 1] == 62:
                    p += 2
                    break
                status[1] = MALFORMED
                return spans[:0], status
            ns = p
            while p < end and not _space(buf[p]) and buf[p] != 61 and buf[p] != 47:
                if buf[p] == 62:
                    break
                p += 1
            ne = p
            while p < end and _space(buf[p]):
                p += 1
            if ne == ns or p >= end or buf[p] != 61:  # '='
                status[1] = MALFORMED
                status[2] = p
                return spans[:0], status
            p += 1
            while p < end and _space(buf[p]):
                p += 1
            if p >= end or (buf[p] != 34 and buf[p] != 39):  # quote
                status[1] = MALFORMED
                status[2] = p
                return spans[:0], status
            quote = buf[p]
            vs = p + 1
            p = vs
            while p < end and buf[p] != quote:
                p += 1
            if p >= end:
                status[1] = MALFORMED
                return spans[:0], status
            ve = p
            p += 1
            for a in range(k):
                s0 = name_start[a]
                if name_start[a + 1] - s0 != ne - ns:
                    continue
                same = True
                for j in range(ne - ns):
                    if buf[ns + j] != names[s0 + j]:
                        same = False
                        break
                if same:
                    if spans[n, 2 * a] >= 0:
                        status[1] = DUPLICATE
                        status[2] = ns
                        return spans[:0], status
                    spans[n, 2 * a] = vs
                    spans[n, 2 * a + 1] = ve
                    break
        for a in range(k):
            if spans[n, 2 * a] < 0:
                status[1] = MISSING
                return spans[:0], status
        n += 1
        pos = p
    status[0] = n
    return spans[:n], status


@helper
def _decimal(buf: np.ndarray, s: int, e: int) -> tuple[float, bool]:
    """The number in buf[s:e] and True when it is a plain decimal ``[+-]digits[.digits]
    [(e|E)[+-]digits]`` whose value this can compute exactly; else (0.0, False).

    Exact (the correctly rounded double, as ``float`` gives) because the mantissa m is at
    most 2**53 and the power of ten at most 22: m and 10**k are then both exact doubles and
    m * 10**k or m / 10**k is one correctly rounded operation (Clinger's fast path)."""
    p = s
    neg = False
    if p < e and (buf[p] == 43 or buf[p] == 45):  # + -
        neg = buf[p] == 45
        p += 1
    m = 0
    exp = 0
    digits = 0
    exact = True
    while p < e and 48 <= buf[p] <= 57:
        d = buf[p] - 48
        if m <= (_MAX_EXACT - d) // 10:
            m = m * 10 + d
        else:
            exact = False
        digits += 1
        p += 1
    if p < e and buf[p] == 46:  # '.'
        p += 1
        while p < e and 48 <= buf[p] <= 57:
            d = buf[p] - 48
            if m <= (_MAX_EXACT - d) // 10:
                m = m * 10 + d
                exp -= 1
            else:
                exact = False
            digits += 1
            p += 1
    if digits == 0:
        return 0.0, False
    if p < e and (buf[p] == 101 or buf[p] == 69):  # e E
        p += 1
        eneg = False
        if p < e and (buf[p] == 43 or buf[p] == 45):
            eneg = buf[p] == 45
            p += 1
        x = 0
        ed = 0
        while p < e and 48 <= buf[p] <= 57:
            if x < 100000:
                x = x * 10 + (buf[p] - 48)
            ed += 1
            p += 1
        if ed == 0:
            return 0.0, False
        exp += -x if eneg else x
    if p != e or not exact:
        return 0.0, False
    if m == 0:
        v = 0.0
    elif exp == 0:
        v = float(m)
    elif 0 < exp <= 22:
        v = float(m) * _POW10[exp]
    elif -22 <= exp < 0:
        v = float(m) / _POW10[-exp]
    else:
        return 0.0, False
    return (-v if neg else v), True


@kernel("u1[:], i8[:, :]", returns="Tuple((f8[:, :], b1[:, :]))")
def parse_floats(buf: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers in ``buf`` at ``spans`` int64 (n, 2k) (start, end pairs, as
    ``element_attributes`` gives). Returns values float64 (n, k) and ``done`` bool (n, k):
    False where the text is not a plain decimal computed exactly (the caller converts
    those with ``float``, which also judges whether they are numbers at all)."""
    n = spans.shape[0]
    k = spans.shape[1] // 2
    values = np.zeros((n, k))
    done = np.zeros((n, k), dtype=np.bool_)
    for i in range(n):
        for a in range(k):
            v, ok = _decimal(buf, spans[i, 2 * a], spans[i, 2 * a + 1])
            values[i, a] = v
            done[i, a] = ok
    return values, done


@kernel("u1[:], i8[:, :]", returns="Tuple((i8[:, :], b1[:, :]))")
def parse_ints(buf: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative integers (plain digits, at most 18) in ``buf`` at ``spans`` int64
    (n, 2k). Returns values int64 (n, k) and ``done`` bool (n, k), False where the text is
    anything else (the caller converts or refuses those)."""
    n = spans.shape[0]
    k = spans.shape[1] // 2
    values = np.zeros((n, k), dtype=np.int64)
    done = np.zeros((n, k), dtype=np.bool_)
    for i in range(n):
        for a in range(k):
            s = spans[i, 2 * a]
            e = spans[i, 2 * a + 1]
            if e <= s or e - s > 18:
                continue
            x = 0
            ok = True
            for p in range(s, e):
                c = buf[p]
                if c < 48 or c > 57:
                    ok = False
                    break
                x = x * 10 + (c - 48)
            values[i, a] = x
            done[i, a] = ok
    return values, done
