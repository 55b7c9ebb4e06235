# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/engine_for_pretraining.py  # noqa: E501
from contextlib import nullcontext
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import nn

from mmbeitv2.errors import ConfigValueError
from mmbeitv2.registry import MODELS
from ..backbones.beitv2_vit import BEiTv2ViT
from ..utils.query_index import masked_query_index, uniform_mask_count

# What makes a ``BEiTv2ViT`` arch: the keys the neck reads.
ARCH_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'feedforward_channels')


@MODELS.register_module()
class BEiTv2(BaseSelfSupervisor):
    """BEiT v2 masked image modeling with patch aggregation.

    `BEiT v2: Masked Image Modeling with Vector-Quantized Visual Tokenizers
    <https://arxiv.org/abs/2208.06366>`_. For each masked patch the student
    predicts the code the frozen tokenizer gives it, from the final layer
    and again from the patch-aggregation branch (docs/official.md §2.2-§2.3):
    ``mask -> backbone -> neck -> head``, targets from ``target_generator``.

    Each setting is stated once: the backbone's ``arch`` also sets the
    neck's ``arch`` and the head's ``embed_dims``, and the neck's
    ``early_layers`` sets the backbone's ``out_indices``. A config leaves
    the derived values out; given anyway, they must agree.

    The tokenizer is frozen explicitly (docs/official.md §1.7,
    docs/stack_notes.md #5): its parameters get ``requires_grad=False``,
    :meth:`train` keeps it in eval mode, and its tokens are computed under
    ``torch.no_grad()``. Under autocast (``--amp``) the tokenizer runs in
    the student's autocast, as the official loop does
    (``beit2/engine_for_pretraining.py`` calls
    ``vqkd.get_codebook_indices`` inside ``torch.cuda.amp.autocast()``; the
    tokenizer keeps ``encode_task_layer`` and the codebook distances in fp32
    itself); ``tokenizer_precision='fp32'`` runs all of it in fp32. Pair the
    model with an optimizer constructor that skips parameters without grad
    (the configs use mmpretrain's ``LearningRateDecayOptimWrapperConstructor``
    with ``layer_decay_rate=1.0``) so it is not in the optimizer, and DDP
    needs no ``find_unused_parameters``.

    Shapes: B images, N patches each, M masked patches per image,
    Q = 1 + M queries ([CLS] + the masked patches), T = B * M masked tokens
    in the batch, C channels.

    Args:
        backbone (dict): ``BEiTv2ViT`` with ``with_mask_token=True``,
            ``out_type='raw'`` and ``final_norm=False``. Its
            ``out_indices`` follow from the neck's ``early_layers``
            (``(early_layers - 1, last)``); if given they are checked.
        neck (dict): ``BEiTv2Neck`` with ``early_layers``, the paper's l.
            Its ``arch`` follows the backbone's; if given it is checked.
        head (dict): ``MIMHead``. Its ``embed_dims`` follows the backbone's;
            if given it is checked.
        target_generator (dict): The tokenizer, e.g. ``VQKDTokenizer``; it
            must have ``num_patches`` (its patch grid, checked against the
            mask's) and ``get_tokens(images01) -> (B, N) long`` for images
            in [0, 1] (and, for ``use_masked_only_last_blocks``,
            ``get_tokens(images01, query_index) -> (B, M)``); its
            checkpoint goes in its own ``init_cfg``.
        use_masked_only_last_blocks (bool): Let the last student block, the
            last neck block and the last tokenizer-encoder block compute
            only the tokens the losses read (see :meth:`loss`). Same losses
            and gradients within float noise, fewer FLOPs; False runs every
            token through every block. Defaults to True.
        tokenizer_precision (str): ``'autocast'`` (official): under
            ``--amp`` the tokenizer's encoder runs in the student's
            autocast; ``'fp32'``: the whole tokenizer in fp32 (slower under
            autocast; no near-tied code can flip). Defaults to 'autocast'.
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
                 use_masked_only_last_blocks: bool = True,
                 tokenizer_precision: str = 'autocast',
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if tokenizer_precision not in ('autocast', 'fp32'):
            raise ConfigValueError(
                f'BEiTv2: tokenizer_precision={tokenizer_precision!r} is '
                "not 'autocast' (official) or 'fp32'")
        self.tokenizer_precision = tokenizer_precision
        # The paper's layer l is stated once, in the neck (docs/official.md
        # §2.2): the backbone returns block l's tokens and the last block's.
        early_layers = neck.get('early_layers') if isinstance(neck, dict) \
            else None
        if isinstance(backbone, dict) and early_layers is not None and \
                'out_indices' not in backbone:
            backbone = dict(backbone, out_indices=(early_layers - 1, -1))
        # Built first (the order of building, hence of the random init, is
        # unchanged) so that its resolved arch sets the neck's and head's.
        if not isinstance(backbone, nn.Module):
            backbone = MODELS.build(backbone)
        neck, head = self._follow_backbone(backbone, neck, head)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            target_generator=target_generator,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self._check_early_layers()
        self.target_generator.requires_grad_(False)
        self.target_generator.eval()
        # Why: the losses read only the masked positions of the last student
        # block (final branch), of the last neck block (aggregation branch) and
        # of the tokenizer (targets), plus the final [CLS] that the neck
        # aggregates (docs/official.md §2.2-§2.3). So those three last blocks
        # need queries for [CLS] + the M masked tokens only (75 of 196); keys
        # and values still see every token: same math, ~6% fewer FLOPs per step
        # at ViT-B/16 (docs/benchmark.md).
        self.use_masked_only_last_blocks = use_masked_only_last_blocks

    @staticmethod
    def _follow_backbone(backbone: nn.Module, neck: dict,
                         head: dict) -> Tuple[dict, dict]:
        """The neck's ``arch`` and the head's ``embed_dims`` from the built
        backbone: filled in when left out, checked when given."""
        arch = {key: backbone.arch_settings[key] for key in ARCH_KEYS}
        if isinstance(neck, dict):
            if 'arch' not in neck:
                neck = dict(neck, arch=arch)
            given = neck['arch']
            if isinstance(given, str):
                given = BEiTv2ViT.arch_zoo[given]
            for key in ARCH_KEYS:
                if given[key] != arch[key]:
                    raise ConfigValueError(
                        f'BEiTv2: neck.arch {key}={given[key]} differs from '
                        f"the backbone's {key}={arch[key]}; leave neck.arch "
                        'unset (it follows the backbone)')
        if isinstance(head, dict):
            head = dict(head)
            head.setdefault('embed_dims', arch['embed_dims'])
            if head['embed_dims'] != arch['embed_dims']:
                raise ConfigValueError(
                    f"BEiTv2: head.embed_dims={head['embed_dims']} differs "
                    f"from the backbone's embed_dims={arch['embed_dims']}; "
                    'leave head.embed_dims unset (it follows the backbone)')
        return neck, head

    def _check_early_layers(self) -> None:
        """The backbone must return block ``early_layers`` (1-based) and its
        last block, in that order: what the neck aggregates."""
        early = getattr(self.neck, 'early_layers', None)
        if early is None:
            return
        expected = [early - 1, self.backbone.num_layers - 1]
        if list(self.backbone.out_indices) != expected:
            raise ConfigValueError(
                f'BEiTv2: backbone.out_indices={self.backbone.out_indices} '
                f'do not match neck.early_layers={early} (expected '
                f'{expected}); set neck.early_layers only and leave '
                'backbone.out_indices unset')

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

    def get_mask(
        self, data_samples: List[DataSample], device: torch.device
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The batch's mask and, on the fast path, its ``query_index``.

        Args:
            data_samples (list[DataSample]): Each holds its ``mask`` (H, W),
                numpy from the pipeline or a tensor.
            device (torch.device): Where the model runs.

        Returns:
            tuple: the (B, N) bool mask (True = masked) on ``device``, and
            the (B, Q) long ``query_index`` of [CLS] + the M masked patches,
            or None when every token is computed (see :meth:`loss`).
        """
        mask = torch.stack([torch.as_tensor(ds.mask)
                            for ds in data_samples]).flatten(1).bool()
        # counted where the mask is: on the host for the pipeline's numpy
        # masks, before they move (no host-device sync)
        num_masked = uniform_mask_count(mask) \
            if self.use_masked_only_last_blocks else None
        mask = mask.to(device, non_blocking=True)
        query_index = None if num_masked is None else \
            masked_query_index(mask, num_masked)
        return mask, query_index

    @torch.no_grad()
    def get_targets(self,
                    images01: torch.Tensor,
                    query_index: Optional[torch.Tensor] = None
                    ) -> torch.Tensor:
        """Tokenizer codes of the tokenizer view, never differentiated.

        Args:
            images01 (torch.Tensor): (B, 3, H', W') images in [0, 1].
            query_index (torch.Tensor, optional): (B, Q) token indices,
                [CLS] first: the codes of those M patches only. Defaults to
                None (all).

        Returns:
            torch.Tensor: (B, N) long codes, raster order, or (B, M); with
            the ``TeacherFeatures`` diagnostic, (B, N, C_t) or (B, M, C_t)
            features.
        """
        tokenizer = self.target_generator
        # 'autocast' (official): the student's autocast, if any, reaches the
        # tokenizer's encoder; 'fp32': disabled for all of it (a named
        # deviation: slower under --amp, never flips a near-tied code).
        precision = nullcontext() if self.tokenizer_precision == 'autocast' \
            else torch.autocast(images01.device.type, enabled=False)
        with precision:
            if query_index is None:
                target = tokenizer.get_tokens(images01.float())
            else:
                target = tokenizer.get_tokens(images01.float(), query_index)
        # codes (long); features for the TeacherFeatures diagnostic
        return target if target.is_floating_point() else target.long()

    def forward_features(
            self,
            images: torch.Tensor,
            mask: Optional[torch.Tensor],
            query_index: Optional[torch.Tensor] = None) -> Sequence:
        """Backbone + neck.

        Args:
            images (torch.Tensor): (B, 3, H, W) normalised model view.
            mask (torch.Tensor, optional): (B, N) bool, True = masked.
            query_index (torch.Tensor, optional): (B, Q) token indices,
                [CLS] first: the last backbone and neck blocks compute only
                these tokens. Defaults to None (all).

        Returns:
            tuple: final and aggregated normed patch tokens, each (B, N, C),
            or (B, M, C) with ``query_index``.
        """
        # One shared bias for all blocks, the neck's included
        # (docs/official.md §2.1).
        rel_pos_bias = self.backbone.shared_rel_pos_bias()
        # early (B, 1+N, C), final (B, 1+N, C) or (B, Q, C)
        early, final = self.backbone(images, mask, rel_pos_bias, query_index)
        return self.neck((early, final), rel_pos_bias, query_index)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Both MIM losses and the logged accuracies.

        ``mask -> positions -> targets -> features -> head``. With
        ``use_masked_only_last_blocks`` and the same number M of masked
        patches in every image (what ``BlockwiseMaskGenerator`` gives), the
        ``query_index`` of [CLS] + the M masked patches is built once (a
        stable argsort: fixed shapes, no boolean indexing, no host-device
        sync) and the last blocks of the backbone, the neck and the
        tokenizer compute only those tokens; otherwise every token is
        computed and the masked ones are picked afterwards. Either way the
        head gets the T masked tokens of the batch in the same order.

        Args:
            inputs (list[torch.Tensor]): ``[model_view, tokenizer_view]``.
            data_samples (list[DataSample]): Each holds its ``mask`` (H, W).

        Returns:
            dict[str, torch.Tensor]: See :meth:`MIMHead.loss`.
        """
        mask, query_index = self.get_mask(data_samples, inputs[0].device)
        self._check_grid(mask)
        target = self.get_targets(inputs[1], query_index)  # (B, N) | (B, M)
        feats, feats_agg = self.forward_features(inputs[0], mask, query_index)
        # the T masked tokens of each: (T, C), (T, C), (T, )
        pick = partial(self.masked_tokens, mask=mask, query_index=query_index)
        return self.head.loss(pick(feats), pick(feats_agg), pick(target))

    @staticmethod
    def masked_tokens(x: torch.Tensor, mask: torch.Tensor,
                      query_index: Optional[torch.Tensor]) -> torch.Tensor:
        """The T masked tokens of the batch, batch-major raster order.

        Args:
            x (torch.Tensor): (B, M, ...) with ``query_index`` (already the
                masked tokens), else (B, N, ...).
            mask (torch.Tensor): (B, N) bool, True = masked.
            query_index (torch.Tensor, optional): (B, Q), or None.

        Returns:
            torch.Tensor: (T, ...).
        """
        if query_index is not None:
            return x.flatten(0, 1)  # (B, M, ...) -> (T, ...)
        return x[mask]  # (B, N, ...) -> (T, ...)

    def _check_grid(self, mask: torch.Tensor) -> None:
        """The tokenizer's patch grid must be the model's (mask's) one."""
        num_patches = self.target_generator.num_patches
        if num_patches != mask.shape[1]:
            raise ValueError(
                f'BEiTv2: tokenizer grid of {num_patches} patches does not '
                f'match the mask grid of {mask.shape[1]}; give the '
                'tokenizer view the size whose patch grid equals the '
                "model's")
