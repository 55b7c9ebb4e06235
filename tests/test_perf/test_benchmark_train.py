# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The benchmark tool end to end on tiny models: both sides build, train,
and do the same math (same FLOPs per step)."""
import os.path as osp
import sys

import pytest
import torch

from mmbeitv2.utils import register_all_modules
from ._tiny import ARCH, IMG, TINY_OPTS

TOOLS = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis_tools')


def _run(stage, *flags):
    sys.path.insert(0, TOOLS)
    try:
        import benchmark_train
    finally:
        sys.path.remove(TOOLS)
    register_all_modules(init_default_scope=False)
    old = sys.argv
    sys.argv = ['benchmark_train.py', '--img-size', str(IMG),
                '--batch-size', '2', '--steps', '2', '--warmup', '1', *flags]
    try:
        args = benchmark_train.parse_args()
    finally:
        sys.argv = old
    args.arch = ARCH
    return benchmark_train.run_stage(stage, args, torch.device('cpu'),
                                     extra_opts=TINY_OPTS)


@pytest.mark.integration
def test_pretrain_same_flops_and_reports():
    res = _run('pretrain', '--ref-tokenizer-eval',
               '--no-masked-only-last-blocks')
    ours, ref = res['sides']['mmbeitv2'], res['sides']['mmpretrain']
    assert ours['flops_per_step'] == ref['flops_per_step'] > 0
    for r in (ours, ref):
        assert r['step_time_s']['n'] == 2 and r['images_per_s'] > 0
        assert r['peak_bytes'] > 0
    assert res['ratio']['n'] == 2 and res['ratio']['median'] > 0


@pytest.mark.integration
def test_pretrain_masked_only_default_does_less_work():
    res = _run('pretrain', '--ref-tokenizer-eval')
    ours, ref = res['sides']['mmbeitv2'], res['sides']['mmpretrain']
    assert ours['flops_per_step'] < ref['flops_per_step']


@pytest.mark.integration
def test_finetune_and_vqkd_stages():
    res = _run('finetune')
    ours, ref = res['sides']['mmbeitv2'], res['sides']['mmpretrain']
    assert ours['flops_per_step'] == ref['flops_per_step'] > 0
    res = _run('vqkd', '--with-cp')
    assert list(res['sides']) == ['mmbeitv2'] and 'ratio' not in res
    assert res['sides']['mmbeitv2']['flops_per_step'] > 0
