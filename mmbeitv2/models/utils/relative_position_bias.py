# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_finetune.py  # noqa: E501
from typing import Sequence, Tuple

import torch
from torch import nn


def num_relative_distances(window_size: Sequence[int]) -> int:
    """Rows of a unilm relative position table: the (2Wh-1)*(2Ww-1)
    relative offsets of a (Wh, Ww) patch grid and 3 [CLS] entries."""
    return (2 * window_size[0] - 1) * (2 * window_size[1] - 1) + 3


def gather_relative_bias(table: torch.Tensor,
                         index: torch.Tensor) -> torch.Tensor:
    """A relative table looked up at every (query, key) pair.

    Args:
        table (torch.Tensor): (num_relative_distances, num_heads).
        index (torch.Tensor): (N+1, N+1) :func:`relative_position_index`.

    Returns:
        torch.Tensor: (num_heads, N+1, N+1), a permuted view.
    """
    n = index.shape[0]
    bias = table[index.view(-1)].view(n, n, -1)  # (N+1, N+1, heads)
    return bias.permute(2, 0, 1)  # (heads, N+1, N+1)


def relative_position_index(window_size: Sequence[int]) -> torch.Tensor:
    """The unilm index of every (query, key) pair into a relative table.

    The (2Wh-1)*(2Ww-1) relative offsets come first, row-major over
    (dh, dw) with dh scaled by (2Ww-1); then 3 extra entries: query [CLS] ->
    token, token -> key [CLS], [CLS] -> [CLS] (docs/official.md §6.4).

    Args:
        window_size (Sequence[int]): The patch grid (Wh, Ww).

    Returns:
        torch.Tensor: (N+1, N+1) int64 index, N = Wh*Ww.
    """
    wh, ww = window_size
    num_relative_distance = num_relative_distances(window_size)
    coords = torch.stack(
        torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij'))
    coords = coords.flatten(1)  # (2, N)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # N,N,2
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    index = torch.zeros((wh * ww + 1, ) * 2, dtype=torch.long)
    index[1:, 1:] = rel.sum(-1)
    index[0, 0:] = num_relative_distance - 3
    index[0:, 0] = num_relative_distance - 2
    index[0, 0] = num_relative_distance - 1
    return index


class RelativePositionBias(nn.Module):
    """A relative position bias table with its unilm index.

    Used as the *shared* bias of BEiT v2 pretraining (one table for every
    block, zero-initialised, docs/official.md §2.1) and, inside
    ``BEiTAttention``, as the per-block tables of fine-tuning. Parameter names
    match mmpretrain's ``RelativePositionBias``
    (``relative_position_bias_table``) so weights move between the two.

    Args:
        window_size (Sequence[int]): The patch grid (Wh, Ww).
        num_heads (int): Number of attention heads.
    """

    def __init__(self, window_size: Sequence[int], num_heads: int) -> None:
        super().__init__()
        self.window_size: Tuple[int, int] = tuple(window_size)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros(num_relative_distances(window_size), num_heads))
        # Recomputed from the window size; kept in the state dict only for
        # mmpretrain compatibility (loaders drop it, docs/official.md §3.2.4).
        self.register_buffer('relative_position_index',
                             relative_position_index(window_size))

    def forward(self) -> torch.Tensor:
        """Returns the bias as (num_heads, N+1, N+1)."""
        return gather_relative_bias(self.relative_position_bias_table,
                                    self.relative_position_index).contiguous()
