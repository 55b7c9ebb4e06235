# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Image features from a ViT backbone, unmasked, whatever it is set to
output.

One extractor for every caller (the inference API, the feature-extraction
tool, the kNN monitor during pretraining) and for the ViTs they meet: our
``BEiTv2ViT`` and mmpretrain's ``VisionTransformer`` family, including the
pretraining encoders ``MAEViT`` and ``BEiTPretrainViT``, which mask their
input unless told ``mask=None``.
"""
import inspect

import torch

FEATURE_KINDS = ('cls', 'mean', 'patch', 'layers')


def _unmasked_forward(vit, x: torch.Tensor) -> tuple:
    """``vit(x)`` on the whole image. mmpretrain's ``MAEViT.forward`` masks
    75% of the patches by default (``mask=True``) and returns (tokens,
    mask, ids_restore); with ``mask=None`` it runs the plain
    ``VisionTransformer.forward``, as ``BEiTPretrainViT`` and ``BEiTv2ViT``
    do."""
    if 'mask' in inspect.signature(vit.forward).parameters:
        return vit(x, mask=None)
    return vit(x)


@torch.no_grad()
def backbone_features(vit, x: torch.Tensor, kind: str) -> torch.Tensor:
    """One batch's features from a ViT backbone (module doc).

    The backbone's ``out_type`` and ``out_indices`` are set to what ``kind``
    needs for this call and restored after it; nothing else changes (call
    it in eval mode for deterministic features: dropout and drop path).

    Args:
        vit (nn.Module): A ``BEiTv2ViT`` or an mmpretrain
            ``VisionTransformer`` (``MAEViT`` too).
        x (torch.Tensor): (B, 3, H, W) normalised images.
        kind (str): ``'cls'`` the last block's [CLS] (after the final norm
            if the model has one), (B, C); ``'mean'`` the pooled feature,
            i.e. ``ln2`` of the mean patch token for a fine-tuned
            (``avg_featmap``) backbone, else the plain mean, (B, C);
            ``'patch'`` the last block's patch tokens, (B, N, C);
            ``'layers'`` every block's [CLS], (B, L, C).

    Returns:
        torch.Tensor: The features.
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f'unknown feature kind {kind!r}; use one of '
                         f'{FEATURE_KINDS}')
    if kind in ('cls', 'layers') and vit.cls_token is None:
        raise ValueError(f'kind={kind!r} needs a [CLS] token')
    saved = vit.out_type, vit.out_indices
    last = vit.num_layers - 1
    vit.out_type = 'raw'
    vit.out_indices = list(range(vit.num_layers)) if kind == 'layers' \
        else [last]
    try:
        outs = _unmasked_forward(vit, x)  # per block: (B, extra + N, C)
    finally:
        vit.out_type, vit.out_indices = saved
    if kind == 'layers':
        return torch.stack([o[:, 0] for o in outs], dim=1)  # (B, L, C)
    tokens = outs[-1]
    if kind == 'cls':
        return tokens[:, 0]
    patch = tokens[:, vit.num_extra_tokens:]  # (B, N, C)
    if kind == 'patch':
        return patch
    mean = patch.mean(dim=1)
    return vit.ln2(mean) if hasattr(vit, 'ln2') else mean
