# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit/run_linear_eval.py  # noqa: E501
from typing import List, Optional, Sequence, Tuple

import torch
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample
from torch import nn

from mmbeitv2.registry import MODELS


@MODELS.register_module()
class PerLayerLinearClsHead(ClsHead):
    """One linear classifier per backbone block: the per-layer linear probe.

    BEiT v2 ships no linear-probe code (docs/official.md §3.5); this follows
    the BEiT v1 protocol (``beit/run_linear_eval.py``): for every block output
    of a frozen backbone (``out_type='raw'``) a feature (``'cls_mean'`` =
    ``[x[:, 0]; mean(x[:, 1:])]``, ``'cls'`` or ``'mean'``), an optional
    affine-free BatchNorm, and its own ``Linear`` (N(0, 0.01), bias 0). The
    training loss is the sum of the per-layer losses; the probes do not
    interact because each sees a detached feature of a frozen model.
    ``predict`` gives the scores of ``eval_index`` as ``pred_score`` and every
    layer's in ``layer_scores`` (read by ``PerLayerAccuracy``, which reports
    each layer and the best one).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Token width C.
        num_layers (int): Number of probed outputs (``len(out_indices)``).
        feature (str): ``'cls_mean'``, ``'cls'`` or ``'mean'``.
            Defaults to ``'cls_mean'``.
        with_bn (bool): BatchNorm1d (affine False) before each linear layer,
            as MAE's probe. Defaults to True.
        eval_index (int): The layer whose scores are ``pred_score``.
            Defaults to -1.
        loss (dict): Loss of each probe. Defaults to
            ``dict(type='CrossEntropyLoss', loss_weight=1.0)``.
        init_cfg (dict, optional): Defaults to N(0, 0.01) for the linear
            layers.
    """

    features = ('cls_mean', 'cls', 'mean')

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_layers: int,
                 feature: str = 'cls_mean',
                 with_bn: bool = True,
                 eval_index: int = -1,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01, bias=0.),
                 **kwargs) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        if feature not in self.features:
            raise ValueError(f'PerLayerLinearClsHead: unknown feature '
                             f'{feature!r}; use one of {self.features}')
        self.feature = feature
        self.num_layers = num_layers
        self.eval_index = eval_index
        dims = in_channels * (2 if feature == 'cls_mean' else 1)
        self.bns = nn.ModuleList([
            nn.BatchNorm1d(dims, affine=False, eps=1e-6)
            if with_bn else nn.Identity() for _ in range(num_layers)
        ])
        self.fcs = nn.ModuleList(
            [nn.Linear(dims, num_classes) for _ in range(num_layers)])

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """(B, N+1, C) block outputs -> one (B, C) or (B, 2C) feature each."""
        if len(feats) != self.num_layers:
            raise ValueError(f'PerLayerLinearClsHead: got {len(feats)} '
                             f'outputs for {self.num_layers} probes')
        out = []
        for x, bn in zip(feats, self.bns):
            cls, mean = x[:, 0], x[:, 1:].mean(dim=1)  # (B, C) each
            f = {'cls': cls, 'mean': mean}.get(self.feature)
            out.append(bn(torch.cat([cls, mean], dim=1) if f is None else f))
        return out

    def forward(self, feats: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Returns one (B, num_classes) score per probed layer."""
        return tuple(
            fc(f) for fc, f in zip(self.fcs, self.pre_logits(feats)))

    def loss(self, feats: Sequence[torch.Tensor],
             data_samples: List[DataSample], **kwargs) -> dict:
        """Sum of the per-layer losses; each layer is also logged
        (``layer{i}_ce``, no ``loss`` in the name so it is not summed
        twice)."""
        losses = {}
        total = 0.
        for i, score in enumerate(self(feats)):
            value = self._get_loss(score, data_samples, **kwargs)['loss']
            losses[f'layer{i}_ce'] = value.detach()
            total = total + value
        losses['loss'] = total
        return losses

    def predict(
        self,
        feats: Sequence[torch.Tensor],
        data_samples: Optional[List[Optional[DataSample]]] = None
    ) -> List[DataSample]:
        """``pred_score`` of ``eval_index``; ``layer_scores`` (L, classes)
        of every probe."""
        scores = self(feats)
        samples = self._get_predictions(scores[self.eval_index],
                                        data_samples)
        stacked = torch.stack(scores, dim=1).softmax(dim=-1)  # (B, L, K)
        for sample, layer_scores in zip(samples, stacked):
            sample.set_field(layer_scores.detach(), 'layer_scores')
        return samples
