# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The fast path's one contract: a ``query_index``.

``query_index`` is a (B, Q) long tensor of token indices into the
``[CLS] + N patches`` sequence of a ViT, with **[CLS] first** (token 0,
patch i = token i + 1). A module given one computes only those tokens in
its last block (keys and values still see every token) and returns them in
that order; because [CLS] stays at position 0, every consumer drops it with
the same ``x[:, 1:]`` as on the full sequence. ``BEiTv2`` builds it once
per step from the mask (:func:`masked_query_index`) and hands it to the
backbone, the neck and the tokenizer (``get_tokens(images, query_index)``),
none of which knows about masks.

Boolean indexing (``x[mask]``) has a data-dependent output size, so on an
accelerator it waits for the device (a host-device sync). With the same
number M of masked patches in every image, the (B, M) positions come from a
stable argsort instead: fixed shapes, no sync.

Shapes: B images, N patches each, M masked patches per image, Q = 1 + M
query tokens ([CLS] + the masked patches).
"""
from typing import Optional

import torch

__all__ = [
    'uniform_mask_count', 'masked_positions', 'with_cls_index',
    'masked_query_index'
]


def uniform_mask_count(mask: torch.Tensor) -> Optional[int]:
    """M when every image has the same number M > 0 of masked patches.

    The counts are read on the host: free for the masks of the data
    pipeline, which stay on the host (``PackInputs(algorithm_keys=['mask'])``
    leaves numpy arrays; ``BEiTv2.loss`` calls this before moving them); one
    small host-device sync for a mask already on an accelerator.

    Args:
        mask (torch.Tensor): (B, N) bool, True = masked.

    Returns:
        int | None: M, or None when the counts differ or are 0.
    """
    lo, hi = torch.stack(torch.aminmax(mask.sum(1))).tolist()
    return lo if lo == hi and lo > 0 else None


def masked_positions(mask: torch.Tensor, num_masked: int) -> torch.Tensor:
    """Patch indices of the masked patches, ascending (the raster order of
    ``x[mask]``).

    Args:
        mask (torch.Tensor): (B, N) bool with exactly ``num_masked`` True
            per row (see :func:`uniform_mask_count`).
        num_masked (int): M.

    Returns:
        torch.Tensor: (B, M) long.
    """
    # stable: masked (0) before unmasked (1), each group in raster order
    return torch.argsort((~mask).to(torch.uint8), dim=1,
                         stable=True)[:, :num_masked]


def with_cls_index(positions: torch.Tensor) -> torch.Tensor:
    """Patch indices -> a ``query_index``: (B, M) -> (B, Q), [CLS]
    (token 0) first, patch i as token i + 1. The one place the [CLS]
    offset is applied."""
    return torch.cat([positions.new_zeros(positions.shape[0], 1),
                      positions + 1], dim=1)


def masked_query_index(mask: torch.Tensor, num_masked: int) -> torch.Tensor:
    """The ``query_index`` of [CLS] and the masked patches.

    Args:
        mask (torch.Tensor): (B, N) bool with exactly ``num_masked`` True
            per row.
        num_masked (int): M.

    Returns:
        torch.Tensor: (B, Q) long token indices, Q = 1 + M: [CLS] first,
        then the masked patches in raster order.
    """
    return with_cls_index(masked_positions(mask, num_masked))
