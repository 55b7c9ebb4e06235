# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Measurement helpers of the training benchmark."""
import os

import pytest
import torch
import torch.nn.functional as F

from benchmarks.benchmark_utils import (PeakMemory, count_flops, matmul_peak,
                                        paired_ratio, summarize)


def test_summarize_and_paired_ratio():
    s = summarize([4., 1., 3., 2., 5.])
    assert (s['median'], s['min'], s['max'], s['n']) == (3., 1., 5., 5)
    assert s['q1'] <= s['median'] <= s['q3']
    # ref takes 2x as long in every pair -> ratio 2
    r = paired_ratio([1., 2., 3.], [2., 4., 6.])
    assert r['median'] == pytest.approx(2.) and r['min'] == r['max']


def test_count_flops_linear_forward_backward():
    x = torch.randn(4, 10, 8, requires_grad=True)
    w = torch.randn(6, 8, requires_grad=True)
    n = count_flops(lambda: F.linear(x, w).sum().backward())
    # forward, grad input, grad weight: 3 x (2 * 40 * 8 * 6)
    assert n == 3 * 2 * 40 * 8 * 6


@pytest.mark.parametrize('with_mask', [False, True])
def test_count_flops_sdpa_equals_plain_attention(with_mask):
    """The fused CPU kernel counts as the matmul path it replaces (torch
    alone counts it as 0)."""
    q, k, v = [torch.randn(2, 3, 7, 4, requires_grad=True) for _ in range(3)]
    mask = torch.randn(1, 3, 7, 7) if with_mask else None

    def plain():
        a = (q * 0.5) @ k.transpose(-2, -1)
        if mask is not None:
            a = a + mask
        (a.softmax(-1) @ v).sum().backward()

    def fused():
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask).sum() \
            .backward()

    n_plain = count_flops(plain)
    assert n_plain == 6 * 2 * (2 * 3) * 7 * 7 * 4
    assert count_flops(fused) == n_plain


@pytest.mark.skipif(
    not os.path.exists('/proc/self/clear_refs'), reason='Linux only')
def test_peak_memory_cpu_sees_a_transient_allocation():
    mem = PeakMemory(torch.device('cpu'))
    with mem.measure():
        t = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        del t
    assert mem.delta >= 48 * 2**20
    assert mem.peak >= mem.before + mem.delta - 1
    assert 'VmHWM' in mem.method


def test_matmul_peak_is_the_fastest_rep(monkeypatch):
    """2 size^3 FLOPs over the fastest timed repetition; every timed call
    runs the matmul."""
    from benchmarks import benchmark_utils
    times, ran = [0.3, 0.1, 0.2], []

    def time_call(fn, device):
        ran.append(fn())
        return times[len(ran) - 1]

    monkeypatch.setattr(benchmark_utils, 'time_call', time_call)
    assert matmul_peak(torch.device('cpu'), size=64, reps=3) == \
        2 * 64**3 / 0.1
    assert [tuple(r.shape) for r in ran] == [(64, 64)] * 3
    monkeypatch.undo()
    # and measured for real: finite, and far above a naive Python loop
    peak = matmul_peak(torch.device('cpu'), size=64, reps=2)
    assert 1e6 < peak < float('inf')
