# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A pure-PyTorch stand-in for ``mmcv.ops`` (docs/stack_notes.md #1).

mmsegmentation 1.x imports ``mmcv.ops`` at module level (``point_sample``,
``sigmoid_focal_loss``), and mmcv-lite has no compiled ops
(``No module named 'mmcv._ext'``), so ``import mmseg.models`` fails. When,
and only when, the real ``mmcv.ops`` cannot be imported,
:func:`install_mmcv_ops_shim` puts a small module in its place:
``point_sample`` in PyTorch, ``sigmoid_focal_loss`` raising a clear error, and
every other name raising ``ModuleNotFoundError`` (mmseg guards its optional
heads with ``except ModuleNotFoundError``; dunder names raise
``AttributeError`` so introspection keeps working).
"""
import sys
import types

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

SHIM_NAME = 'mmcv.ops'


def point_sample(input: torch.Tensor,
                 points: torch.Tensor,
                 align_corners: bool = False,
                 **kwargs) -> torch.Tensor:
    """mmcv's ``point_sample``: bilinear samples at points in [0, 1].

    Args:
        input (torch.Tensor): (B, C, H, W) features.
        points (torch.Tensor): (B, P, 2) or (B, Hp, Wp, 2) (x, y) in [0, 1].
        align_corners (bool): As ``F.grid_sample``. Defaults to False.

    Returns:
        torch.Tensor: (B, C, P) or (B, C, Hp, Wp).
    """
    add_dim = points.dim() == 3
    if add_dim:
        points = points.unsqueeze(2)  # (B, P, 1, 2)
    out = F.grid_sample(
        input, 2.0 * points - 1.0, align_corners=align_corners, **kwargs)
    return out.squeeze(3) if add_dim else out


def sigmoid_focal_loss(*args, **kwargs):
    """Needs compiled mmcv ops; only reached when a config uses mmseg's
    ``FocalLoss`` with ``use_sigmoid=True``."""
    raise RuntimeError(
        'sigmoid_focal_loss needs the compiled mmcv.ops (full mmcv), which '
        'mmcv-lite lacks; mmbeitv2 installed a pure-PyTorch stand-in for '
        'mmcv.ops that does not provide it. Use another loss.')


def _missing(name: str):
    if name.startswith('__') and name.endswith('__'):
        raise AttributeError(name)
    raise ModuleNotFoundError(
        f'mmcv.ops.{name} needs the compiled mmcv ops; mmbeitv2 replaced '
        'mmcv.ops by a pure-PyTorch stand-in (mmcv-lite is installed)')


def _real_ops_available() -> bool:
    try:
        import mmcv.ops  # noqa: F401
    except ImportError:
        return False
    return not getattr(sys.modules.get(SHIM_NAME), '_mmbeitv2_shim', False)


def install_mmcv_ops_shim() -> bool:
    """Install the stand-in as ``mmcv.ops`` unless the real one imports.

    Returns:
        bool: True if the stand-in is (now or already) in place.
    """
    current = sys.modules.get(SHIM_NAME)
    if getattr(current, '_mmbeitv2_shim', False):
        return True
    if _real_ops_available():
        return False
    import mmcv
    shim = types.ModuleType(SHIM_NAME, __doc__)
    shim._mmbeitv2_shim = True
    shim.point_sample = point_sample
    shim.sigmoid_focal_loss = sigmoid_focal_loss
    shim.__getattr__ = _missing
    sys.modules[SHIM_NAME] = shim
    mmcv.ops = shim
    print_log(
        'mmcv.ops is unavailable (mmcv-lite); installed the mmbeitv2 '
        'pure-PyTorch stand-in (point_sample only)',
        logger='current')
    return True
