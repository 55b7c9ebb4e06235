# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A masked-only variant of the ``BEiTv2`` loss, for the benchmark.

It measures a speed suggestion for ``BEiTv2``/``BEiTv2Neck``/the tokenizer
without editing them: every consumer of the *last* block of the student,
of the patch-aggregation neck and of the tokenizer encoder reads only the
[CLS] and the M masked tokens (spec §2.2-§2.3: the losses use masked
positions only; the neck uses the final [CLS]), so those blocks compute
outputs for those tokens only (``BEiTBlock(query_index=...)``; keys and
values still see every token). With a fixed number of masked patches per
image (75 of 196, spec §2.4) the positions come from a stable argsort, so
there is no boolean indexing and no host-device sync. The losses equal
``BEiTv2.loss`` within float noise (tests/test_perf/test_fast_mim.py).
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ['masked_positions', 'fast_mim_loss']


def masked_positions(mask: torch.Tensor, num_masked: int) -> torch.Tensor:
    """(B, N) bool mask with exactly ``num_masked`` True per row -> (B, M)
    ascending patch indices (the raster order of ``x[mask]``)."""
    return torch.argsort((~mask).to(torch.uint8), dim=1,
                         stable=True)[:, :num_masked]


@torch.no_grad()
def masked_tokens(tokenizer: nn.Module, images01: torch.Tensor,
                  pos: torch.Tensor) -> torch.Tensor:
    """``VQKDTokenizer.get_tokens(images01)`` at ``pos`` only, (B, M)."""
    enc = tokenizer.encoder
    x, _ = enc.embed(tokenizer._to_signed(images01))  # (B, 1+N, C)
    for layer in enc.layers[:-1]:
        x = layer(x)
    x = enc.layers[-1](x, None, pos + 1)  # (B, M, C); +1 skips [CLS]
    x = tokenizer.encoder_norm(x)
    with torch.autocast(device_type=x.device.type, enabled=False):
        w = tokenizer.encode_task_layer[-1].weight
        x = tokenizer.encode_task_layer(x.type_as(w))  # (B, M, D)
    # (B, M, D) -> (B, D, M, 1), the quantizer's (B, D, H, W) layout
    _, _, idx = tokenizer.quantize(x.transpose(1, 2)[..., None], update=False)
    return idx.view(pos.shape)


def fast_mim_loss(model: nn.Module, images: torch.Tensor,
                  images01: torch.Tensor, mask: torch.Tensor,
                  num_masked: int) -> Dict[str, torch.Tensor]:
    """``BEiTv2.loss`` computed on masked positions from the last blocks on.

    Args:
        model (nn.Module): A ``BEiTv2`` (backbone ``final_norm=False``).
        images (torch.Tensor): (B, 3, H, W) model view.
        images01 (torch.Tensor): (B, 3, H', W') tokenizer view in [0, 1].
        mask (torch.Tensor): (B, N) bool, ``num_masked`` True per row.
        num_masked (int): M, masked patches per image.

    Returns:
        dict[str, torch.Tensor]: ``loss_mim`` and ``loss_mim_agg``.
    """
    pos = masked_positions(mask, num_masked)  # (B, M)
    labels = masked_tokens(model.target_generator, images01, pos).flatten()
    bb, neck = model.backbone, model.neck
    x, _ = bb.embed(images, mask)  # (B, 1+N, C)
    rel_pos_bias = bb.shared_rel_pos_bias()
    early = None
    for i, layer in enumerate(bb.layers[:-1]):
        x = layer(x, rel_pos_bias)
        if i == bb.out_indices[0]:
            early = x
    cls_and_masked = torch.cat([pos.new_zeros(pos.shape[0], 1), pos + 1], 1)
    final = bb.layers[-1](x, rel_pos_bias, cls_and_masked)  # (B, 1+M, C)
    agg = torch.cat([final[:, :1], early[:, 1:]], dim=1)  # (B, 1+N, C)
    for layer in neck.patch_aggregation[:-1]:
        agg = layer(agg, rel_pos_bias)
    agg = neck.patch_aggregation[-1](agg, rel_pos_bias, pos + 1)  # (B, M, C)
    head = model.head.cls_head
    logits = head(neck.norm(final[:, 1:]).flatten(0, 1))  # (B*M, K)
    logits_agg = head(neck.norm(agg).flatten(0, 1))
    return dict(
        loss_mim=F.cross_entropy(logits.float(), labels),
        loss_mim_agg=F.cross_entropy(logits_agg.float(), labels))
