# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/run_class_finetuning.py  # noqa: E501
"""Scipy-free resize of a relative position bias table (docs/official.md
§3.2.4).

The official code samples the (2S-1)x(2S-1) relative grid at geometrically
spaced source coordinates and evaluates ``scipy.interpolate.interp2d(x, y, z,
kind='cubic')`` at the integer target offsets. ``interp2d`` is gone since
SciPy 1.14 (docs/stack_notes.md #3). On a rectilinear grid with ``s=0`` it fits
FITPACK's interpolating bicubic spline, whose interior knots are the data
sites without the second and the second-to-last one: the tensor product of
two 1-D *not-a-knot* cubic spline interpolants. A 1-D spline interpolant is
linear in the data, so here each axis becomes a (n_dst, n_src) weight matrix
and a head is resized as ``W_h @ Z @ W_w^T``, in float64, with pure torch.
"""
from typing import List, Optional, Sequence

import torch

# cls->token, token->cls, cls->cls (docs/official.md §6.4)
NUM_EXTRA_TOKENS = 3


def geometric_ratio(src_size: int, dst_size: int) -> float:
    """The official bisection for q in [1.01, 1.5] (tolerance 1e-6) with
    ``1 + q + ... + q^(src_size//2 - 1) ~= dst_size // 2``.

    Args:
        src_size (int): Source relative grid side (2S-1).
        dst_size (int): Target relative grid side.

    Returns:
        float: The ratio q.
    """
    left, right = 1.01, 1.5
    n = src_size // 2
    while right - left > 1e-6:
        q = (left + right) / 2.0
        if (1.0 - q**n) / (1.0 - q) > dst_size // 2:
            right = q
        else:
            left = q
    return q


def geometric_coords(src_size: int, dst_size: int) -> List[float]:
    """Source coordinates ``-cumsum .. 0 .. +cumsum`` of the official code:
    (1, 1+q, 1+q+q^2, ...) mirrored around 0.

    Args:
        src_size (int): Source relative grid side (odd).
        dst_size (int): Target relative grid side (odd).

    Returns:
        list[float]: ``src_size`` increasing coordinates.
    """
    q = geometric_ratio(src_size, dst_size)
    dis, cur = [], 1.0
    for i in range(src_size // 2):
        dis.append(cur)
        cur += q**(i + 1)
    return [-d for d in reversed(dis)] + [0.0] + dis


def _not_a_knot_second_derivatives(x: torch.Tensor) -> torch.Tensor:
    """(n, n) matrix mapping data values to the second derivatives M of the
    not-a-knot cubic spline through them (n >= 4)."""
    n = x.numel()
    h = x[1:] - x[:-1]  # (n-1, )
    a = x.new_zeros(n, n)  # a @ M = b @ y
    b = x.new_zeros(n, n)
    for i in range(1, n - 1):
        a[i, i - 1], a[i, i], a[i, i + 1] = h[i - 1], 2 * (
            h[i - 1] + h[i]), h[i]
        b[i, i - 1], b[i, i], b[i, i + 1] = 6 / h[i - 1], -6 / h[i - 1] - 6 / \
            h[i], 6 / h[i]
    # Not-a-knot: the third derivative is continuous at x[1] and x[n-2].
    a[0, 0], a[0, 1], a[0, 2] = h[1], -(h[0] + h[1]), h[0]
    a[-1, -3], a[-1, -2], a[-1, -1] = h[-1], -(h[-2] + h[-1]), h[-2]
    return torch.linalg.solve(a, b)


def cubic_spline_weights(src: Sequence[float],
                         dst: Sequence[float]) -> torch.Tensor:
    """Weights W with ``spline(dst) = W @ values_at(src)`` for the 1-D
    not-a-knot cubic interpolant (FITPACK's ``s=0``, k=3 spline).

    Target points outside ``[src[0], src[-1]]`` are clamped to the ends, as
    FITPACK's evaluator (and so ``interp2d``) does. Fewer than 4 sources
    fall back to the interpolating polynomial of their degree.

    Args:
        src (Sequence[float]): Increasing source sites, n of them.
        dst (Sequence[float]): Target points, m of them.

    Returns:
        torch.Tensor: (m, n) float64 weights.
    """
    x = torch.as_tensor(src, dtype=torch.float64)
    t = torch.as_tensor(dst, dtype=torch.float64).clamp(x[0], x[-1])
    n = x.numel()
    if n < 4:
        # Lagrange basis of degree n-1.
        w = torch.ones(t.numel(), n, dtype=torch.float64)
        for j in range(n):
            for k in range(n):
                if k != j:
                    w[:, j] *= (t - x[k]) / (x[j] - x[k])
        return w
    m_of_y = _not_a_knot_second_derivatives(x)  # (n, n)
    seg = torch.searchsorted(x, t, right=True).sub(1).clamp(0, n - 2)  # (m,)
    x0, x1 = x[seg], x[seg + 1]
    h = x1 - x0
    a = (x1 - t) / h
    b = (t - x0) / h
    eye = torch.eye(n, dtype=torch.float64)
    # S(t) = a*y0 + b*y1 + ((a^3-a) M0 + (b^3-b) M1) h^2 / 6
    w = a[:, None] * eye[seg] + b[:, None] * eye[seg + 1]
    w = w + ((a**3 - a) * h**2 / 6)[:, None] * m_of_y[seg]
    w = w + ((b**3 - b) * h**2 / 6)[:, None] * m_of_y[seg + 1]
    return w  # (m, n)


def resize_rel_pos_bias_table(
        table: torch.Tensor,
        dst_window: Sequence[int],
        src_window: Optional[Sequence[int]] = None) -> torch.Tensor:
    """Resize a relative position bias table to another patch grid with the
    official geometric-progression cubic interpolation (docs/official.md
    §3.2.4, §4).

    Each head's (2Sh-1, 2Sw-1) grid is resized separately; the last 3 rows
    ([CLS] entries) are copied unchanged.

    Args:
        table (torch.Tensor): ((2Sh-1)*(2Sw-1) + 3, heads) table.
        dst_window (Sequence[int]): Target patch grid (Wh, Ww).
        src_window (Sequence[int], optional): Source patch grid; inferred as
            square from the table length when None. Defaults to None.

    Returns:
        torch.Tensor: ((2Wh-1)*(2Ww-1) + 3, heads), the input's dtype.
    """
    num_pos, num_heads = table.shape
    if src_window is None:
        side = int(round((num_pos - NUM_EXTRA_TOKENS)**0.5))
        src_shape = (side, side)
    else:
        src_shape = (2 * src_window[0] - 1, 2 * src_window[1] - 1)
    dst_shape = (2 * dst_window[0] - 1, 2 * dst_window[1] - 1)
    if src_shape[0] * src_shape[1] + NUM_EXTRA_TOKENS != num_pos:
        raise ValueError(f'resize_rel_pos_bias_table: a table of {num_pos} '
                         f'rows does not fit a {src_shape} relative grid')
    if src_shape == dst_shape:
        return table.clone()
    extra = table[-NUM_EXTRA_TOKENS:]
    weights = []
    for s, d in zip(src_shape, dst_shape):
        t = d // 2
        weights.append(
            cubic_spline_weights(
                geometric_coords(s, d), [float(i) for i in range(-t, t + 1)]))
    w_h, w_w = weights  # (Dh, Sh), (Dw, Sw)
    # (Sh*Sw, heads) -> (heads, Sh, Sw); rows of the grid are the dh offsets
    grid = table[:-NUM_EXTRA_TOKENS].double().T.reshape(
        num_heads, *src_shape)
    out = w_h @ grid @ w_w.T  # (heads, Dh, Dw)
    out = out.reshape(num_heads, -1).T.to(table.dtype)  # (Dh*Dw, heads)
    return torch.cat([out, extra], dim=0)
