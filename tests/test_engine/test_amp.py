# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/train.py --amp``."""
from contextlib import ExitStack
from unittest import mock

import pytest
import torch
from mmengine.config import Config

from mmbeitv2.cli import configure_amp
from mmbeitv2.cli.amp import cpu_bf16_support


def _cfg(**optim_wrapper) -> Config:
    return Config(
        dict(
            optim_wrapper=dict(
                optimizer=dict(type='AdamW', lr=1e-3), **optim_wrapper)))


def _cpu_caps(amx: bool, avx512_bf16: bool, onednn: bool = True):
    """Simulate a CPU: its AMX / AVX512-BF16 flags and oneDNN's bf16."""
    caps = dict(torch.cpu.get_capabilities(), amx_bf16=amx)
    return (mock.patch('torch.cuda.is_available', return_value=False),
            mock.patch('torch.cpu.get_capabilities', return_value=caps),
            mock.patch('torch.cpu._is_amx_tile_supported', return_value=amx),
            mock.patch('torch.cpu._is_avx512_bf16_supported',
                       return_value=avx512_bf16),
            mock.patch('torch.ops.mkldnn._is_mkldnn_bf16_supported',
                       return_value=onednn))


@pytest.mark.parametrize('amx,avx512_bf16,onednn,expected', [
    (False, False, True, (False, 'neither AMX-BF16 nor AVX512-BF16')),
    (False, True, True, (True, 'AVX512-BF16')),
    (True, False, True, (True, 'AMX-BF16')),
    (True, True, False, (False, 'oneDNN has no bf16')),
])
def test_cpu_bf16_detection(amx, avx512_bf16, onednn, expected):
    with ExitStack() as stack:
        for patch in _cpu_caps(amx, avx512_bf16, onednn):
            stack.enter_context(patch)
        supported, why = cpu_bf16_support()
    assert supported is expected[0]
    assert expected[1] in why


def _logged(stack) -> mock.MagicMock:
    return stack.enter_context(mock.patch('mmbeitv2.cli.amp.print_log'))


def test_cpu_without_bf16_keeps_fp32_optim_wrapper():
    with ExitStack() as stack:
        for patch in _cpu_caps(amx=False, avx512_bf16=False):
            stack.enter_context(patch)
        log = _logged(stack)
        cfg = configure_amp(_cfg(type='OptimWrapper'))
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert 'dtype' not in cfg.optim_wrapper
    assert 'training in fp32 (the CPU has neither AMX-BF16 nor ' \
        'AVX512-BF16' in log.call_args.args[0]


@pytest.mark.parametrize('amx,avx512_bf16', [(True, True), (False, True)])
def test_cpu_with_bf16_autocasts(amx, avx512_bf16):
    with ExitStack() as stack:
        for patch in _cpu_caps(amx, avx512_bf16):
            stack.enter_context(patch)
        log = _logged(stack)
        cfg = configure_amp(_cfg(type='OptimWrapper'))
    assert cfg.optim_wrapper.type == 'mmbeitv2.CPUAutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    out = log.call_args.args[0]
    assert 'bf16 autocast on CPU (the CPU has ' \
        f'{"AMX-BF16" if amx else "AVX512-BF16"}' in out


def test_cpu_forced_bf16_and_forced_fp32():
    with ExitStack() as stack:
        for patch in _cpu_caps(amx=False, avx512_bf16=False):
            stack.enter_context(patch)
        forced = configure_amp(_cfg(type='OptimWrapper'), cpu_bf16=True)
    assert forced.optim_wrapper.type == 'mmbeitv2.CPUAutocastOptimWrapper'
    with ExitStack() as stack:
        for patch in _cpu_caps(amx=True, avx512_bf16=True):
            stack.enter_context(patch)
        kept = configure_amp(_cfg(type='OptimWrapper'), cpu_bf16=False)
    assert kept.optim_wrapper.type == 'OptimWrapper'


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
