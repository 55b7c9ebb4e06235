# CIFAR-10 benchmark, the pixel-target baseline (tools/run_demo.py --preset
# cifar, stage mae): mmpretrain's MAE (He et al., arXiv 2111.06377) on the
# student of beitv2_cifar10.py - the same 4x128 ViT (patch 4 on 32 px), the
# same data and crops, batch, iterations and peak learning rate - so the
# table shows what BEiT v2's tokenizer targets buy over pixels. MAE's own
# settings otherwise: 75% of the patches masked at random, the encoder sees
# only the visible ones, a 2-block decoder of width 128 (1/4 of the
# encoder's depth, as MAE-B's 8 blocks for 12 would be 2.7), normalised-pixel
# L2 loss, AdamW betas (0.9, 0.95), weight decay 0.05.
# The probe: vit-4x128-p4_mae-pre_linear-probe_cifar10.py (same protocol).
_base_ = [
    'mmpretrain::_base_/models/mae_vit-base-p16.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmbeitv2'

arch = dict(
    embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **arch),
        img_size=32,
        patch_size=4,
        mask_ratio=0.75),
    neck=dict(
        num_patches=64,
        patch_size=4,
        embed_dim=128,
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4),
    head=dict(patch_size=4))

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
# the crops and flip of beitv2_cifar10.py (its first view), mmcv decoding
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.35, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root='data/cifar10/',
        data_prefix='train',
        pipeline=train_pipeline))

# beitv2_cifar10.py's budget: 3,500 iterations of 64, 200 warmup, cosine to
# 1e-5 from the same peak 1.5e-3 (MAE's 1.5e-4 per 256 images would be
# 3.75e-5 here: far too low for a 4.5-epoch run).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95),
                   weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            'ln': dict(decay_mult=0.0),
            'bias': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.)
        }))
max_iters = 3500
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=200),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False,
         begin=200, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=50)
randomness = dict(seed=0, diff_rank_seed=True)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
work_dir = './work_dirs/cifar_benchmark/mae'
