# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Tiny model configs shared by the tests (one place to say what a tiny
VQ-KD tokenizer, BEiT v2 pretraining model or its parts are). Every
setting the paper's model depends on is written out, never left to a
default."""
import torch

from mmbeitv2.registry import MODELS

# mmpretrain's ImageNet mean/std on [0, 255] values: the model view of the
# paper configs' data preprocessors.
IMAGENET_NORM = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


def vit_arch(embed_dims: int, num_layers: int, num_heads: int = 2,
             feedforward_channels: int = None) -> dict:
    """A ``BEiTv2ViT`` arch dict (FFN 4x wide unless given)."""
    return dict(
        embed_dims=embed_dims,
        num_layers=num_layers,
        num_heads=num_heads,
        feedforward_channels=feedforward_channels or 4 * embed_dims)


def vqkd_cfg(arch: dict, num_embed: int, decoder_out_dims: int,
             code_dims: int = 16, **kwargs) -> dict:
    """A ``VQKDTokenizer`` on 32 px images with patch 8 (a 4x4 code map),
    a one-block decoder of the encoder's width."""
    return dict(
        type='VQKDTokenizer',
        encoder=dict(arch=arch, img_size=32, patch_size=8),
        decoder=dict(
            arch=dict(arch, num_layers=1), img_size=4, patch_size=1,
            in_channels=code_dims),
        quantizer=dict(num_embed=num_embed, embed_dims=code_dims),
        decoder_out_dims=decoder_out_dims,
        **kwargs)


def _vit_32px(arch: dict, **kwargs) -> dict:
    """A ``BEiTv2ViT`` on 32 px images with patch 8 (a 4x4 grid)."""
    return dict(type='BEiTv2ViT', arch=arch, img_size=32, patch_size=8,
                **kwargs)


def pretrain_backbone(arch: dict, early_layers: int, **kwargs) -> dict:
    """The pretraining ``BEiTv2ViT`` on 32 px images with patch 8."""
    return _vit_32px(
        arch,
        with_mask_token=True,
        use_shared_rel_pos_bias=True,
        use_rel_pos_bias=False,
        out_indices=(early_layers - 1, arch['num_layers'] - 1),
        out_type='raw',
        final_norm=False,
        layer_scale_init_value=0.1,
        **kwargs)


def pretrain_parts(arch: dict, early_layers: int, num_embed: int,
                   **kwargs) -> torch.nn.Module:
    """Backbone + neck + head of ``BEiTv2`` (no tokenizer), the official
    pretraining checkpoint's modules; ``kwargs`` go to backbone and neck
    (e.g. ``use_sdpa``)."""
    model = torch.nn.Module()
    model.backbone = MODELS.build(
        pretrain_backbone(arch, early_layers, **kwargs))
    model.neck = MODELS.build(
        dict(type='BEiTv2Neck', arch=arch, early_layers=early_layers,
             **kwargs))
    model.head = MODELS.build(
        dict(type='MIMHead', embed_dims=arch['embed_dims'],
             num_embed=num_embed))
    return model


def beitv2_cfg(arch: dict, tokenizer_arch: dict, num_embed: int,
               early_layers: int, backbone: dict = None,
               neck: dict = None) -> dict:
    """A whole ``BEiTv2`` with a tiny tokenizer (no k-means init) and the
    two-view data preprocessor of the paper configs."""
    tokenizer = vqkd_cfg(tokenizer_arch, num_embed, decoder_out_dims=32)
    tokenizer['quantizer']['kmeans_init'] = False
    return dict(
        type='BEiTv2',
        data_preprocessor=dict(
            type='TwoNormDataPreprocessor', to_rgb=True, **IMAGENET_NORM,
            # the tokenizer's view: [0, 1] values
            second_mean=[0.] * 3, second_std=[255.] * 3),
        backbone=pretrain_backbone(arch, early_layers, **(backbone or {})),
        neck=dict(type='BEiTv2Neck', arch=arch, early_layers=early_layers,
                  **(neck or {})),
        head=dict(type='MIMHead', embed_dims=arch['embed_dims'],
                  num_embed=num_embed),
        target_generator=tokenizer)


def finetune_backbone(arch: dict, **kwargs) -> dict:
    """The fine-tuning ``BEiTv2ViT`` on 32 px images with patch 8:
    per-block tables, mean-pooled patches + fresh norm, timm init."""
    return _vit_32px(
        arch,
        use_shared_rel_pos_bias=False,
        use_rel_pos_bias=True,
        out_type='avg_featmap',
        init_style='finetune',
        **kwargs)


def masked_batch(batch_size: int, seed: int, num_masked: int = 6,
                 grid: int = 4) -> dict:
    """A pretraining batch of random 32 px images (the same array for both
    views) with ``num_masked`` random patches masked in every image (numpy
    masks, as ``PackInputs`` leaves them)."""
    import numpy as np
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randint(
        0, 256, (batch_size, 3, 32, 32), generator=g, dtype=torch.uint8)
    samples = []
    for _ in range(batch_size):
        mask = np.zeros(grid * grid, bool)
        mask[torch.randperm(grid * grid, generator=g)[:num_masked].numpy()] \
            = True
        sample = DataSample()
        sample.set_field(mask.reshape(grid, grid), 'mask')
        samples.append(sample)
    return dict(inputs=[imgs, imgs.clone()], data_samples=samples)


def random_model_file(config: str, path) -> torch.nn.Module:
    """Write the config text ``config`` to ``path`` and build its model
    with :func:`mmbeitv2.apis.get_model`, then give every parameter random
    N(0, 0.2) values (seed 0), so that outputs differ clearly between
    images."""
    from mmbeitv2.apis import get_model
    path.write_text(config)
    model = get_model(str(path))
    torch.manual_seed(0)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.2)
    return model
