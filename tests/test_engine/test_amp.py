# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/train.py --amp``."""
from unittest import mock

import pytest
from mmengine.config import Config

from mmbeitv2.cli import configure_amp


def _cfg(**optim_wrapper) -> Config:
    return Config(
        dict(
            optim_wrapper=dict(
                optimizer=dict(type='AdamW', lr=1e-3), **optim_wrapper)))


def test_cpu_keeps_fp32_optim_wrapper():
    with mock.patch('torch.cuda.is_available', return_value=False):
        cfg = configure_amp(_cfg(type='OptimWrapper'))
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert 'dtype' not in cfg.optim_wrapper


@pytest.mark.parametrize('bf16,dtype,loss_scale', [(True, 'bfloat16', None),
                                                   (False, 'float16',
                                                    'dynamic')])
def test_cuda_picks_bf16_else_fp16(bf16, dtype, loss_scale):
    with mock.patch('torch.cuda.is_available', return_value=True), \
            mock.patch('torch.cuda.is_bf16_supported', return_value=bf16):
        cfg = configure_amp(_cfg())
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == dtype
    assert cfg.optim_wrapper.get('loss_scale') == loss_scale
    assert cfg.optim_wrapper.optimizer.lr == 1e-3


def test_cuda_leaves_custom_wrappers_alone():
    with mock.patch('torch.cuda.is_available', return_value=True):
        cfg = configure_amp(_cfg(type='MyWrapper'))
    assert cfg.optim_wrapper.type == 'MyWrapper'
