# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/engine_for_pretraining.py  # noqa: E501
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import nn

from mmbeitv2.registry import MODELS


@MODELS.register_module()
class BEiTv2(BaseSelfSupervisor):
    """BEiT v2 masked image modeling with patch aggregation.

    `BEiT v2: Masked Image Modeling with Vector-Quantized Visual Tokenizers
    <https://arxiv.org/abs/2208.06366>`_. For each masked patch the student
    predicts the code the frozen tokenizer gives it, from the final layer
    and again from the patch-aggregation branch (spec §2.2-§2.3):
    ``mask -> backbone -> neck -> head``, targets from ``target_generator``.

    The tokenizer is frozen explicitly (spec §1.7, stack_notes #5): its
    parameters get ``requires_grad=False``, :meth:`train` keeps it in eval
    mode, and its tokens are computed under ``torch.no_grad()``, in fp32
    even under autocast (``--amp``). Pair the
    model with an optimizer constructor that skips parameters without grad
    (the configs use mmpretrain's ``LearningRateDecayOptimWrapperConstructor``
    with ``layer_decay_rate=1.0``) so it is not in the optimizer, and DDP
    needs no ``find_unused_parameters``.

    Args:
        backbone (dict): ``BEiTv2ViT`` with ``with_mask_token=True``,
            ``out_type='raw'``, ``final_norm=False`` and ``out_indices=
            (early_layers - 1, num_layers - 1)``.
        neck (dict): ``BEiTv2Neck``.
        head (dict): ``MIMHead``.
        target_generator (dict): The tokenizer, e.g. ``VQKDTokenizer``; it
            must have ``get_tokens(images01) -> (B, N) long`` for images in
            [0, 1]; its checkpoint goes in its own ``init_cfg``.
        data_preprocessor (dict, optional): Two views, e.g.
            ``TwoNormDataPreprocessor`` with ImageNet mean/std for the model
            view and ``second_mean=0, second_std=255`` (-> [0, 1]) for the
            tokenizer view. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 target_generator: dict,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            target_generator=target_generator,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.target_generator.requires_grad_(False)
        self.target_generator.eval()

    def train(self, mode: bool = True) -> 'BEiTv2':
        """Set train mode, but keep the tokenizer in eval mode."""
        super().train(mode)
        self.target_generator.eval()
        return self

    def extract_feat(self, inputs: Union[torch.Tensor, List[torch.Tensor]]):
        """Backbone features of the model view (no mask)."""
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        return self.backbone(inputs)

    @torch.no_grad()
    def get_targets(self, images01: torch.Tensor) -> torch.Tensor:
        """Tokenizer codes of the tokenizer view, never differentiated.

        Args:
            images01 (torch.Tensor): (B, 3, H', W') images in [0, 1].

        Returns:
            torch.Tensor: (B, N) long codes, raster order.
        """
        # fp32 even under --amp: low-precision distances flip near-tied
        # codes, and bf16 targets need a parity test first (contracts.md).
        with torch.autocast(images01.device.type, enabled=False):
            return self.target_generator.get_tokens(images01.float()).long()

    def forward_features(self, images: torch.Tensor,
                         mask: Optional[torch.Tensor]) -> Sequence:
        """Backbone + neck.

        Args:
            images (torch.Tensor): (B, 3, H, W) normalised model view.
            mask (torch.Tensor, optional): (B, N) bool, True = masked.

        Returns:
            tuple: final and aggregated normed patch tokens, each (B, N, C).
        """
        # One shared bias for all blocks, the neck's included (spec §2.1).
        rel_pos_bias = self.backbone.shared_rel_pos_bias()
        early, final = self.backbone(images, mask, rel_pos_bias)  # (B,1+N,C)
        return self.neck((early, final), rel_pos_bias)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Both MIM losses and the logged accuracies.

        Args:
            inputs (list[torch.Tensor]): ``[model_view, tokenizer_view]``.
            data_samples (list[DataSample]): Each holds its ``mask`` (H, W).

        Returns:
            dict[str, torch.Tensor]: See :meth:`MIMHead.loss`.
        """
        # numpy from the pipeline or tensors: (B, H, W) -> (B, N)
        mask = torch.stack([torch.as_tensor(ds.mask)
                            for ds in data_samples]).flatten(1)
        mask = mask.to(inputs[0].device).bool()
        target = self.get_targets(inputs[1])  # (B, N)
        if target.shape != mask.shape:
            raise ValueError(
                f'BEiTv2: tokenizer grid {tuple(target.shape)} does not '
                f'match the mask grid {tuple(mask.shape)}; give the '
                'tokenizer view the size whose patch grid equals the '
                "model's")
        feats, feats_agg = self.forward_features(inputs[0], mask)
        return self.head.loss(feats, feats_agg, target, mask)
