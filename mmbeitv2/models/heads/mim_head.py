# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/engine_for_pretraining.py  # noqa: E501
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmbeitv2.checkpoint import loads_pretrained
from mmbeitv2.registry import MODELS


@MODELS.register_module()
class MIMHead(BaseModule):
    """The masked-image-modeling head of BEiT v2: one ``Linear(C, K)``
    shared by the final and the patch-aggregation branches (the official
    ``lm_head``, ``shared_lm_head=True``, docs/official.md §2.2-§2.3).

    The features are gathered at the masked positions *before* the linear
    layer, so the logits of unmasked tokens are never computed: (T, K) for
    the T masked tokens of the batch, not (B, N, K). Each branch's loss is
    the cross-entropy averaged over those T tokens (``loss_mim``,
    ``loss_mim_agg``; mmengine sums them, as the official
    ``loss_1 + loss_2``). It also logs the top-1 MIM accuracy of each branch
    (``acc_mim``, ``acc_mim_agg``) and the majority-code baseline on the
    same tokens (``acc_mim_majority``: always predicting the most frequent
    target code), which tells a real gain from a collapsed tokenizer.

    This class shadows mmpretrain's ``MIMHead`` (a generic head around a
    pixel/feature loss module) inside the ``mmbeitv2`` scope; it is closer to
    mmpretrain's ``BEiTV2Head`` (same ``cls_head`` name) but gathers before the
    linear layer, logs accuracies, and uses the official pretraining init
    (N(0, 0.02) truncated at +-1 sigma, bias 0, docs/official.md §2.1).

    Shapes: B images, N patches each, T masked tokens in the batch,
    C channels, K codebook size.

    Args:
        embed_dims (int): Feature width C; ``BEiTv2`` fills it in from its
            backbone. Defaults to 768.
        num_embed (int): Codebook size K. Defaults to 8192.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int = 768,
                 num_embed: int = 8192,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_embed = num_embed
        self.cls_head = nn.Linear(embed_dims, num_embed)

    def init_weights(self) -> None:
        """The official ``lm_head`` init, unless a checkpoint is given."""
        super().init_weights()
        if loads_pretrained(self.init_cfg):
            return
        nn.init.trunc_normal_(self.cls_head.weight, std=.02, a=-.02, b=.02)
        nn.init.zeros_(self.cls_head.bias)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Logits of the given (masked) tokens.

        Args:
            feats (torch.Tensor): (T, C) normed features of the T masked
                tokens of the batch.

        Returns:
            torch.Tensor: (T, K) logits.
        """
        return self.cls_head(feats)  # (T, K)

    @staticmethod
    def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (logits.argmax(-1) == labels).float().mean().detach()

    def loss(self, feats: torch.Tensor, feats_agg: torch.Tensor,
             target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Cross-entropy of both branches over the masked tokens.

        One input contract: the T masked tokens of the batch, in the same
        order in all three inputs (``BEiTv2`` gathers them, batch-major
        raster order, on either of its paths).

        Args:
            feats (torch.Tensor): (T, C) final-branch features.
            feats_agg (torch.Tensor): (T, C) aggregation-branch features.
            target (torch.Tensor): (T, ) long tokenizer codes.

        Returns:
            dict[str, torch.Tensor]: ``loss_mim``, ``loss_mim_agg`` and the
            log-only ``acc_mim``, ``acc_mim_agg``, ``acc_mim_majority``.
        """
        logits = self.forward(feats)  # (T, K)
        logits_agg = self.forward(feats_agg)
        # CE in fp32 (logits may be bf16/fp16 under autocast).
        losses = dict(
            loss_mim=F.cross_entropy(logits.float(), target),
            loss_mim_agg=F.cross_entropy(logits_agg.float(), target),
            acc_mim=self._accuracy(logits, target),
            acc_mim_agg=self._accuracy(logits_agg, target))
        counts = torch.bincount(target, minlength=self.num_embed)
        losses['acc_mim_majority'] = (counts.max().float() /
                                      target.numel()).detach()
        return losses
