# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A tiny labelled ImageFolder and a tiny MAE for the kNN monitor tests."""
import os
import os.path as osp

import numpy as np
from tiny_models import IMAGENET_NORM

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
# 2 classes; the test split has an odd size, so a 2-rank DefaultSampler
# pads it with a repeated image.
SIZES = dict(train=(6, 6), test=(4, 3))


def make_image_folder(root: str) -> str:
    """``root/{train,test}/{red,blue}/*.png``: 32 px noise images, a bit
    reddish or bluish, with a random bright square. The colour cue is weak,
    so that a random-init ViT's kNN top-1 lies strictly between 0 and 100%
    (k=3: 3 of 7 test images) and a wrong gather would show."""
    import cv2
    rng = np.random.default_rng(0)
    for split, sizes in SIZES.items():
        for label, (name, size) in enumerate(zip(('blue', 'red'), sizes)):
            folder = osp.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(size):
                img = rng.integers(0, 120, (32, 32, 3), dtype=np.uint8)
                img[..., 2 * label] += 10  # BGR: 0 blue, 2 red
                y, x = rng.integers(0, 24, 2)
                img[y:y + 8, x:x + 8] = 255
                cv2.imwrite(osp.join(folder, f'{i}.png'), img)
    return root


def split_loader(root: str, split: str, batch_size: int = 4) -> dict:
    """The monitor's dataloader config of one split."""
    return dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(
            type='CustomDataset',
            data_root=root,
            data_prefix=split,
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='PackInputs')]))


def mae_cfg() -> dict:
    """mmpretrain's MAE on 32 px images, patch 8, two 32-wide blocks."""
    return dict(
        type='MAE',
        data_preprocessor=dict(
            type='SelfSupDataPreprocessor', to_rgb=True, **IMAGENET_NORM),
        backbone=dict(type='MAEViT', arch=ARCH, img_size=32, patch_size=8,
                      mask_ratio=0.75),
        neck=dict(
            type='MAEPretrainDecoder', num_patches=16, patch_size=8,
            in_chans=3, embed_dim=32, decoder_embed_dim=32, decoder_depth=1,
            decoder_num_heads=2, mlp_ratio=2.),
        head=dict(
            type='MAEPretrainHead', norm_pix=True, patch_size=8,
            loss=dict(type='PixelReconstructionLoss', criterion='L2')))


def build_mae():
    """The tiny MAE, seeded (the same weights in every process)."""
    import torch
    from mmengine.registry import DefaultScope

    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(mae_cfg())
    model.init_weights()
    return model.train()
