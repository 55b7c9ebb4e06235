# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The training schedules build torch's fused AdamW, which takes the steps
of the per-parameter loop (the official optimizer) within float noise."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmbeitv2.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCHEDULES = ('beitv2_adamw-coslr-300e.py',
             'beitv2-finetune_adamw-layer-decay-coslr-100e.py',
             'vqkd_adamw-coslr-100e.py')


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16),
                               torch.nn.Linear(16, 4))


@pytest.mark.parametrize('schedule', SCHEDULES)
def test_schedule_builds_fused_adamw(schedule):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'schedules', schedule))
    cfg.optim_wrapper.pop('constructor', None)  # needs a BEiT backbone
    cfg.optim_wrapper.pop('paramwise_cfg', None)
    wrapper = build_optim_wrapper(_model(), cfg.optim_wrapper)
    assert isinstance(wrapper.optimizer, torch.optim.AdamW)
    assert wrapper.optimizer.defaults['fused'] is True


def test_fused_adamw_steps_like_the_loop():
    models = [_model(), _model()]
    opts = [torch.optim.AdamW(m.parameters(), lr=1e-2, betas=(0.9, 0.98),
                              weight_decay=0.05, fused=fused)
            for m, fused in zip(models, (True, False))]
    for step in range(5):
        x = torch.randn(4, 8, generator=torch.Generator().manual_seed(step))
        for m, opt in zip(models, opts):
            m(x).square().mean().backward()
            opt.step()
            opt.zero_grad()
    moved = 0.
    for a, b, start in zip(models[0].parameters(), models[1].parameters(),
                           _model().parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
        moved = max(moved, (a - start).abs().max().item())
    assert moved > 1e-2  # five steps of lr 1e-2 really moved the weights
