# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""What ``tools/train.py --amp`` does to a config."""
import torch
from mmengine.config import Config
from mmengine.logging import print_log


def configure_amp(cfg: Config, cpu_bf16: bool = False) -> Config:
    """Switch ``cfg.optim_wrapper`` to mixed precision, where it can run.

    On CUDA: ``AmpOptimWrapper`` with bf16 autocast when the GPU supports
    bf16 (no loss scaling needed), else fp16 with a dynamic loss scale. On a
    machine without CUDA mmengine's ``AmpOptimWrapper`` raises
    (docs/stack_notes.md #7), and CPU bf16 autocast is no faster on CPUs
    without bf16 instructions, so training stays fp32 and one line says so,
    unless
    ``cpu_bf16`` asks for :class:`CPUAutocastOptimWrapper` (bf16 autocast
    on CPU, to exercise the mixed-precision paths without a GPU).

    Args:
        cfg (Config): The config; modified in place.
        cpu_bf16 (bool): Without CUDA, use CPU bf16 autocast instead of
            fp32 (``--amp-cpu-bf16``). Defaults to False.

    Returns:
        Config: The same config.
    """
    if not torch.cuda.is_available():
        if cpu_bf16:
            return _configure_cpu_bf16(cfg)
        print_log(
            '--amp: mixed precision needs CUDA here; training on CPU in '
            'fp32 with the config\'s optim wrapper (--amp-cpu-bf16: CPU '
            'bf16 autocast).',
            logger='current')
        return cfg
    optim_wrapper = cfg.optim_wrapper
    if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        return cfg
    if optim_wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
        print_log(
            f'--amp: optim wrapper {optim_wrapper.type} left unchanged; '
            'set its dtype yourself.',
            logger='current')
        return cfg
    optim_wrapper.type = 'AmpOptimWrapper'
    if torch.cuda.is_bf16_supported():
        optim_wrapper.setdefault('dtype', 'bfloat16')
    else:
        optim_wrapper.setdefault('dtype', 'float16')
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    print_log(
        f'--amp: AmpOptimWrapper with {optim_wrapper.dtype} autocast.',
        logger='current')
    return cfg


def _configure_cpu_bf16(cfg: Config) -> Config:
    """``OptimWrapper`` -> ``CPUAutocastOptimWrapper`` (bf16)."""
    optim_wrapper = cfg.optim_wrapper
    kind = optim_wrapper.get('type', 'OptimWrapper')
    if kind not in ('OptimWrapper', 'mmbeitv2.CPUAutocastOptimWrapper',
                    'CPUAutocastOptimWrapper'):
        print_log(
            f'--amp-cpu-bf16: optim wrapper {kind} left unchanged (fp32).',
            logger='current')
        return cfg
    optim_wrapper.type = 'mmbeitv2.CPUAutocastOptimWrapper'
    optim_wrapper.dtype = 'bfloat16'
    print_log(
        '--amp --amp-cpu-bf16: CPUAutocastOptimWrapper, bf16 autocast on '
        'CPU (no loss scale; the tokenizer and codebook math stay fp32).',
        logger='current')
    return cfg
