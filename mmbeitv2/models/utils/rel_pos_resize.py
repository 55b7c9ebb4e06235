# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Scipy-free relative position table resize (placeholder, being written)."""
from typing import Sequence

import torch


def resize_rel_pos_bias_table(table: torch.Tensor,
                              dst_window: Sequence[int]) -> torch.Tensor:
    """Resize a ((2S-1)^2 + 3, heads) table to ``dst_window``."""
    raise NotImplementedError('resize_rel_pos_bias_table is not written yet')
