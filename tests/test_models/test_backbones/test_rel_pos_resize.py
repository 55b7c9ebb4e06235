# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The scipy-free relative position table resize (docs/official.md §3.2.4)
against independent references of the geometric-sequence method."""
from unittest import TestCase

import numpy as np
import pytest
import torch

from mmbeitv2.checkpoint.rel_pos_resize import (cubic_spline_weights,
                                                geometric_coords,
                                                geometric_ratio,
                                                resize_rel_pos_bias_table)


def _reference_geometric_coords(src_size, dst_size):
    """Line-by-line port of the official loop (run_class_finetuning.py)."""

    def geometric_progression(a, r, n):
        return a * (1.0 - r**n) / (1.0 - r)

    left, right = 1.01, 1.5
    while right - left > 1e-6:
        q = (left + right) / 2.0
        gp = geometric_progression(1, q, src_size // 2)
        if gp > dst_size // 2:
            right = q
        else:
            left = q
    dis = []
    cur = 1
    for i in range(src_size // 2):
        dis.append(cur)
        cur += q**(i + 1)
    r_ids = [-_ for _ in reversed(dis)]
    return r_ids + [0] + dis


def _reference_resize(table, src_size, dst_size):
    """The official method with ``interp2d(kind='cubic')`` replaced by its
    rectilinear-grid equivalent, FITPACK's s=0 bicubic spline."""
    interpolate = pytest.importorskip('scipy.interpolate')
    x = np.array(_reference_geometric_coords(src_size, dst_size))
    t = dst_size // 2.0
    dx = np.arange(-t, t + 0.1, 1.0)
    heads = []
    for i in range(table.shape[1]):
        z = table[:-3, i].view(src_size, src_size).double().numpy()
        f = interpolate.RectBivariateSpline(x, x, z, kx=3, ky=3, s=0)
        heads.append(torch.from_numpy(f(dx, dx)).reshape(-1, 1))
    return torch.cat(heads, dim=1), table[-3:]


class TestRelPosResize(TestCase):

    def test_geometric_coords_match_official_loop(self):
        for src, dst in [(27, 63), (7, 11), (13, 27), (27, 13)]:
            np.testing.assert_allclose(
                geometric_coords(src, dst),
                _reference_geometric_coords(src, dst),
                rtol=0,
                atol=1e-12)
        # the q of the 224 -> 512 segmentation resize (docs/official.md §4)
        self.assertAlmostEqual(geometric_ratio(27, 63), 1.13492, places=4)

    def test_matches_fitpack_bicubic_spline(self):
        torch.manual_seed(0)
        for src_win, dst_win in [(4, 6), (14, 32), (14, 7), (7, 16)]:
            s, d = 2 * src_win - 1, 2 * dst_win - 1
            table = torch.randn(s * s + 3, 3, dtype=torch.float64)
            out = resize_rel_pos_bias_table(table, (dst_win, dst_win))
            grid_ref, extra_ref = _reference_resize(table, s, d)
            self.assertEqual(out.shape, (d * d + 3, 3))
            torch.testing.assert_close(
                out[:-3], grid_ref, rtol=0, atol=1e-10)
            # the 3 [CLS] rows are copied unchanged
            torch.testing.assert_close(out[-3:], extra_ref, rtol=0, atol=0)

    def test_reproduces_cubic_polynomials(self):
        # A not-a-knot cubic spline is exact on cubics: sample
        # p(u, v) at the geometric source sites, read it at the integer
        # targets (independent of any spline library).
        s, d = 13, 27
        x = torch.tensor(geometric_coords(s, d), dtype=torch.float64)

        def p(u, v):
            return 0.3 + 0.5 * u - 0.02 * v**2 + 1e-3 * u**3 + 1e-3 * u * v

        grid = p(x[:, None], x[None, :])  # (s, s), rows = dh
        table = torch.cat([grid.reshape(-1, 1), torch.ones(3, 1)])
        out = resize_rel_pos_bias_table(table, ((d + 1) // 2, ) * 2)
        t = torch.arange(-(d // 2), d // 2 + 1, dtype=torch.float64)
        # targets beyond the outermost source site are clamped to it
        t = t.clamp(x[0], x[-1])
        expected = p(t[:, None], t[None, :]).reshape(-1)
        torch.testing.assert_close(out[:-3, 0], expected, rtol=0, atol=1e-9)

    def test_same_size_and_dtype(self):
        table = torch.randn(13 * 13 + 3, 2)
        out = resize_rel_pos_bias_table(table, (7, 7))
        torch.testing.assert_close(out, table, rtol=0, atol=0)
        out = resize_rel_pos_bias_table(table, (9, 9))
        self.assertEqual(out.dtype, torch.float32)
        self.assertEqual(out.shape, (17 * 17 + 3, 2))

    def test_non_square_and_bad_length(self):
        torch.manual_seed(0)
        table = torch.randn(7 * 11 + 3, 2, dtype=torch.float64)
        out = resize_rel_pos_bias_table(table, (6, 8), src_window=(4, 6))
        self.assertEqual(out.shape, (11 * 15 + 3, 2))
        with self.assertRaisesRegex(ValueError, 'does not fit'):
            resize_rel_pos_bias_table(torch.zeros(50, 2), (6, 6))

    def test_spline_weights_are_an_interpolant(self):
        src = [-3.0, -1.5, 0.0, 1.0, 2.5, 4.0]
        w = cubic_spline_weights(src, src)
        torch.testing.assert_close(
            w, torch.eye(6, dtype=torch.float64), rtol=0, atol=1e-12)
        # rows sum to 1: constants are reproduced
        w = cubic_spline_weights(src, [-2.0, 0.3, 3.9, 10.0])
        torch.testing.assert_close(
            w.sum(1), torch.ones(4, dtype=torch.float64), rtol=0,
            atol=1e-12)
