# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Inference-only fusion of a frozen EfficientNet(-Lite) for VQ-KD targets.

The teacher never trains, so each conv + BatchNorm(eval) pair folds into one
conv with a bias, a symmetric TF-"same" ZeroPad2d folds into the conv's own
padding, and ReLU6 runs in place. On 2 CPU cores this makes the
EfficientNet-Lite0 teacher about twice as fast (the unfused network spends
~40% of its time in BatchNorm, padding copies and ReLU6 passes over large
stride-2/4 maps); the features equal the unfused network's within float
rounding (tests/test_models/test_teachers.py).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A plain ``nn.Conv2d`` computing ``bn(conv(pad(x)))`` (eval BN)."""
    pad = getattr(conv, 'static_padding', None)
    fused = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
        conv.padding, conv.dilation, conv.groups, bias=conv.bias is not None)
    fused.load_state_dict({
        k: v
        for k, v in conv.state_dict().items() if k in ('weight', 'bias')
    })
    fused = fuse_conv_bn_eval(fused.eval(), bn.eval())
    if isinstance(pad, nn.ZeroPad2d):
        left, right, top, bottom = pad.padding
        if left == right and top == bottom:
            fused.padding = (top, left)
            pad = None
    return _PaddedConv(fused, pad if isinstance(pad, nn.ZeroPad2d) else None)


class _PaddedConv(nn.Module):
    """A conv with the asymmetric TF-"same" padding kept as a pad."""

    def __init__(self, conv: nn.Conv2d, pad: Optional[nn.ZeroPad2d]) -> None:
        super().__init__()
        self.conv, self.pad = conv, pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x) if self.pad is not None else x)


class FusedMBConv(nn.Module):
    """``efficientnet_lite_pytorch.MBConvBlock.forward`` in eval mode with
    BatchNorms folded (Lite models have no squeeze-excitation; the
    constructor refuses blocks that do)."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        args = block._block_args
        if getattr(block, 'has_se', False):
            raise ValueError('FusedMBConv: squeeze-excitation blocks are not '
                             'supported (EfficientNet-Lite has none)')
        self.expand = (
            fuse_conv_bn(block._expand_conv, block._bn0)
            if args.expand_ratio != 1 else None)
        self.depthwise = fuse_conv_bn(block._depthwise_conv, block._bn1)
        self.project = fuse_conv_bn(block._project_conv, block._bn2)
        stride = args.stride if isinstance(args.stride, int) else \
            args.stride[0]
        self.residual = (
            block.id_skip and stride == 1
            and args.input_filters == args.output_filters)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand is not None:
            x = F.relu6(self.expand(x), inplace=True)
        x = F.relu6(self.depthwise(x), inplace=True)
        x = self.project(x)
        return x + inputs if self.residual else x


class FusedStem(nn.Module):
    """``_conv_stem -> _bn0 -> ReLU6`` folded."""

    def __init__(self, conv: nn.Module, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        self.conv = fuse_conv_bn(conv, bn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.conv(x), inplace=True)
