# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The benchmark tool end to end on tiny models: both sides build, train,
and do the same math (same FLOPs per step); with a scripted clock, every
reported number is the one its formula gives."""
import sys

import pytest
import torch

from mmbeitv2.utils import register_all_modules
from ._tiny import ARCH, IMG, TINY_OPTS

BATCH = 2

# Step durations the scripted clock returns, in the order the tool times
# the steps: step 0 mmbeitv2 then mmpretrain, step 1 the other way round
# (run_stage alternates which side goes first).
OURS, REF = [0.5, 1.0], [1.0, 4.0]
CLOCK = [OURS[0], REF[0], REF[1], OURS[1]]


def _tool():
    from benchmarks import benchmark_train
    return benchmark_train


def _run(stage, *flags, clock=None, monkeypatch=None):
    """``run_stage`` on the tiny models; with ``clock``, each timed step
    still runs but lasts the next of those seconds."""
    benchmark_train = _tool()
    register_all_modules(init_default_scope=False)
    old = sys.argv
    sys.argv = ['benchmark_train.py', '--img-size', str(IMG),
                '--batch-size', str(BATCH), '--steps', '2', '--warmup', '1',
                *flags]
    try:
        args = benchmark_train.parse_args()
    finally:
        sys.argv = old
    args.arch = ARCH
    if clock is not None:
        queue = list(clock)

        def time_call(fn, device):
            fn()
            return queue.pop(0)

        monkeypatch.setattr(benchmark_train, 'time_call', time_call)
    res = benchmark_train.run_stage(stage, args, torch.device('cpu'),
                                    extra_opts=TINY_OPTS)
    if clock is not None:
        assert queue == [], 'not every step was timed'
    return res


def _check_side(r, times):
    """The numbers of one side from its scripted step times."""
    median = sum(times) / 2  # the median of 2
    assert r['step_time_s']['n'] == len(times) == 2
    assert (r['step_time_s']['median'], r['step_time_s']['min'],
            r['step_time_s']['max']) == (median, min(times), max(times))
    assert r['images_per_s'] == BATCH / median
    assert r['images_per_s_range'] == [BATCH / max(times), BATCH / min(times)]
    assert r['flops_per_s'] == r['flops_per_step'] / median
    assert r['flops_per_image'] == r['flops_per_step'] / BATCH
    assert r['flops_per_step'] % BATCH == 0  # counted on 1 image, scaled


@pytest.mark.integration
def test_pretrain_same_flops_and_reports(monkeypatch, capsys):
    res = _run('pretrain', '--ref-tokenizer-eval',
               '--no-masked-only-last-blocks', clock=CLOCK,
               monkeypatch=monkeypatch)
    assert list(res['sides']) == ['mmbeitv2', 'mmpretrain']
    ours, ref = res['sides']['mmbeitv2'], res['sides']['mmpretrain']
    assert ours['flops_per_step'] == ref['flops_per_step'] > 0
    _check_side(ours, OURS)
    _check_side(ref, REF)
    for r in (ours, ref):
        assert r['peak_bytes'] > 0
    # per pair ref/ours: 1.0 / 0.5 and 4.0 / 1.0. Not the ratio of the
    # img/s medians (2.5 / 0.75): each pair shares the machine's load.
    assert (res['ratio']['n'], res['ratio']['median'], res['ratio']['min'],
            res['ratio']['max']) == (2, 3.0, 2.0, 4.0)

    peak = 1e9
    _tool().report(res, peak)
    out = capsys.readouterr().out
    for name, r in res['sides'].items():
        assert r['mfu'] == r['flops_per_s'] / peak
        assert (f"{name:>10}: {r['images_per_s']:.3f} img/s "
                f"(range {r['images_per_s_range'][0]:.3f}-"
                f"{r['images_per_s_range'][1]:.3f}") in out
        assert f"MFU {r['mfu']:.1%}" in out
    assert '  mmbeitv2: 2.667 img/s (range 2.000-4.000' in out
    assert 'mmpretrain: 0.800 img/s (range 0.500-2.000' in out
    assert ('ratio mmbeitv2/mmpretrain (wall time, per pair): median 3.000 '
            '(min 2.000, q1 2.000, q3 4.000, max 4.000)') in out


@pytest.mark.integration
def test_pretrain_masked_only_default_does_less_work():
    res = _run('pretrain', '--ref-tokenizer-eval')
    ours, ref = res['sides']['mmbeitv2'], res['sides']['mmpretrain']
    assert ours['flops_per_step'] < ref['flops_per_step']


@pytest.mark.integration
def test_finetune_and_vqkd_stages(monkeypatch):
    res = _run('finetune')
    ours, ref = res['sides']['mmbeitv2'], res['sides']['mmpretrain']
    assert ours['flops_per_step'] == ref['flops_per_step'] > 0
    res = _run('vqkd', '--with-cp', clock=OURS, monkeypatch=monkeypatch)
    assert list(res['sides']) == ['mmbeitv2'] and 'ratio' not in res
    assert res['sides']['mmbeitv2']['flops_per_step'] > 0
    _check_side(res['sides']['mmbeitv2'], OURS)


def test_each_side_gets_its_configs_adamw():
    """Ours: the schedule's fused AdamW (each stage); mmpretrain: torch's
    default; --plain-adamw-ours / --fused-adamw switch them."""
    tool = _tool()
    for stage in tool.SCHEDULES:
        assert tool.config_fused_adamw(stage) is True

    def fused(side_name, *flags):
        old = sys.argv
        sys.argv = ['benchmark_train.py', *flags]
        try:
            args = tool.parse_args()
        finally:
            sys.argv = old
        side = tool.Side(side_name, torch.nn.Linear(2, 2), None, lr=1e-3)
        return tool.Trainer(side, args, torch.device('cpu'),
                            'pretrain').optimizer.defaults['fused']

    assert fused('mmbeitv2') is True
    assert not fused('mmpretrain')
    assert not fused('mmbeitv2', '--plain-adamw-ours')
    assert fused('mmpretrain', '--fused-adamw') is True
