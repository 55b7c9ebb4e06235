# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""bf16 autocast on CPU for ``tools/train.py --amp``."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmbeitv2.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under CPU bf16 autocast.

    mmengine's ``AmpOptimWrapper`` needs CUDA (it builds a ``GradScaler``);
    bf16 has fp32's exponent range, so no loss scaling is needed and this
    wrapper only adds ``torch.autocast('cpu', torch.bfloat16)`` around the
    forward (the backward follows the forward's dtypes). Parameters,
    gradients and optimizer state stay fp32, as with ``AmpOptimWrapper``.
    ``tools/train.py --amp`` picks it on CPUs with native bf16 matmuls
    (AMX-BF16 / AVX512-BF16, :func:`mmbeitv2.cli.amp.cpu_bf16_support`);
    ``--amp-cpu-bf16`` forces it elsewhere, to exercise the mixed-precision
    code paths (the quantizer's fp32 codebook math), where it is not
    faster.

    Args:
        dtype (str): The autocast dtype; only ``'bfloat16'`` (fp16 on CPU
            would need loss scaling). Defaults to 'bfloat16'.
        **kwargs: The arguments of ``OptimWrapper``.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'bf16'):
            from mmbeitv2.errors import ConfigValueError
            raise ConfigValueError(
                f'CPUAutocastOptimWrapper: dtype={dtype!r} is not '
                "supported; use 'bfloat16'")
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield
