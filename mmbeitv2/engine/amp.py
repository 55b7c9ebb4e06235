# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""What ``tools/train.py --amp`` does to a config."""
import torch
from mmengine.config import Config
from mmengine.logging import print_log


def configure_amp(cfg: Config) -> Config:
    """Switch ``cfg.optim_wrapper`` to mixed precision, where it can run.

    On CUDA: ``AmpOptimWrapper`` with bf16 autocast when the GPU supports bf16
    (no loss scaling needed), else fp16 with a dynamic loss scale. On a machine
    without CUDA mmengine's ``AmpOptimWrapper`` raises (docs/stack_notes.md
    #7), and CPU bf16 autocast is no faster on CPUs without bf16 instructions,
    so training stays fp32 and one line says so.

    Args:
        cfg (Config): The config; modified in place.

    Returns:
        Config: The same config.
    """
    if not torch.cuda.is_available():
        print_log(
            '--amp: mixed precision needs CUDA here; training on CPU in '
            'fp32 with the config\'s optim wrapper.',
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
