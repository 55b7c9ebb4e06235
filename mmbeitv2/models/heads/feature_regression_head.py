# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmbeitv2.registry import MODELS


@MODELS.register_module()
class FeatureRegressionHead(BaseModule):
    """Regresses teacher features on the masked patches: the counterpart of
    :class:`MIMHead` for :class:`TeacherFeatures` targets (a diagnostic,
    not the paper's method).

    One ``Linear(C, C_t)`` shared by the final and the aggregation branches,
    as ``MIMHead``'s ``lm_head``; each branch's loss is the cosine distance
    ``1 - cos(pred, target)`` averaged over the masked tokens
    (``loss_reg``, ``loss_reg_agg``), the loss VQ-KD's decoder uses for the
    same features (paper §3.1).

    Args:
        embed_dims (int): Student feature width C. Defaults to 768.
        target_dims (int): Teacher feature width C_t. Defaults to 512.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 embed_dims: int = 768,
                 target_dims: int = 512,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.reg_head = nn.Linear(embed_dims, target_dims)

    def init_weights(self) -> None:
        super().init_weights()
        # the init of MIMHead's lm_head (docs/official.md §2.1)
        nn.init.trunc_normal_(self.reg_head.weight, std=.02, a=-.02, b=.02)
        nn.init.zeros_(self.reg_head.bias)

    def loss(self, feats: torch.Tensor, feats_agg: torch.Tensor,
             target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Cosine distance of both branches over the masked tokens.

        Args:
            feats (torch.Tensor): (T, C) final-branch features.
            feats_agg (torch.Tensor): (T, C) aggregation-branch features.
            target (torch.Tensor): (T, C_t) teacher features.

        Returns:
            dict[str, torch.Tensor]: ``loss_reg``, ``loss_reg_agg``.
        """
        target = target.float()

        def distance(x: torch.Tensor) -> torch.Tensor:
            pred = self.reg_head(x).float()  # (T, C_t)
            return (1 - F.cosine_similarity(pred, target, dim=-1)).mean()

        return dict(loss_reg=distance(feats),
                    loss_reg_agg=distance(feats_agg))
