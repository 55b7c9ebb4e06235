# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""What ``tools/train.py --amp`` does to a config."""
from typing import Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import print_log


def cpu_bf16_support() -> Tuple[bool, str]:
    """Whether this CPU multiplies bf16 matrices natively, and why.

    oneDNN runs bf16 matmuls on AMX-BF16 tiles or AVX512-BF16 dot products
    (several times the fp32 rate); without them bf16 is emulated and no
    faster than fp32.

    Returns:
        tuple[bool, str]: ``(supported, the instruction set or what is
        missing)``.
    """
    if not (torch.backends.mkldnn.is_available()
            and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False, 'oneDNN has no bf16 kernels on this CPU'
    caps = torch.cpu.get_capabilities()
    if caps.get('amx_bf16') and torch.cpu._is_amx_tile_supported():
        return True, 'the CPU has AMX-BF16'
    if torch.cpu._is_avx512_bf16_supported():
        return True, 'the CPU has AVX512-BF16'
    return False, 'the CPU has neither AMX-BF16 nor AVX512-BF16'


def configure_amp(cfg: Config, cpu_bf16: Optional[bool] = None) -> Config:
    """Switch ``cfg.optim_wrapper`` to mixed precision, where it can run.

    On CUDA: ``AmpOptimWrapper`` with bf16 autocast when the GPU supports
    bf16 (no loss scaling needed), else fp16 with a dynamic loss scale.
    Without CUDA mmengine's ``AmpOptimWrapper`` raises (docs/stack_notes.md
    #7); on a CPU with native bf16 matmuls (:func:`cpu_bf16_support`)
    :class:`CPUAutocastOptimWrapper` runs bf16 autocast instead, on other
    CPUs bf16 is emulated and no faster, so training stays fp32. One log
    line says which precision and why.

    Args:
        cfg (Config): The config; modified in place.
        cpu_bf16 (bool, optional): Without CUDA: None detects the CPU's bf16
            support; True forces bf16 autocast (``--amp-cpu-bf16``, e.g. to
            exercise the mixed-precision paths on any CPU); False keeps
            fp32. Defaults to None.

    Returns:
        Config: The same config.
    """
    if not torch.cuda.is_available():
        supported, why = cpu_bf16_support()
        if cpu_bf16 or (cpu_bf16 is None and supported):
            reason = why if cpu_bf16 is None else '--amp-cpu-bf16 given'
            return _configure_cpu_bf16(cfg, reason)
        reason = why if cpu_bf16 is None else 'asked for fp32'
        print_log(
            f'--amp without CUDA: training in fp32 ({reason}; bf16 autocast '
            'would be emulated, no faster); --amp-cpu-bf16 forces it.',
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


def _configure_cpu_bf16(cfg: Config, reason: str) -> Config:
    """``OptimWrapper`` -> ``CPUAutocastOptimWrapper`` (bf16)."""
    optim_wrapper = cfg.optim_wrapper
    kind = optim_wrapper.get('type', 'OptimWrapper')
    if kind not in ('OptimWrapper', 'mmbeitv2.CPUAutocastOptimWrapper',
                    'CPUAutocastOptimWrapper'):
        print_log(
            f'--amp on CPU: optim wrapper {kind} left unchanged (fp32).',
            logger='current')
        return cfg
    optim_wrapper.type = 'mmbeitv2.CPUAutocastOptimWrapper'
    optim_wrapper.dtype = 'bfloat16'
    print_log(
        f'--amp without CUDA: bf16 autocast on CPU ({reason}; '
        'CPUAutocastOptimWrapper, no loss scale; the codebook math stays '
        'fp32).',
        logger='current')
    return cfg
