# A short CPU fine-tune on CIFAR-10 JPEGs (32 px) of the small BEiT v2 of
# configs/beitv2/beitv2_vit-tiny-p4_1xb64-coslr-300iter_cifar10.py (4 blocks,
# width 128, patch 4 -> 8x8 tokens): the ImageNet recipe (layer decay,
# mixup/cutmix, RandAugment, random erasing, label smoothing, mean-pooled
# patch tokens + fresh LayerNorm) shrunk to 32 px and 600 iterations.
# Data layout: data/cifar10/{train,test}/<class>/*.jpg.
#   python tools/train.py configs/beitv2/benchmarks/THIS_FILE \
#       --cfg-options model.backbone.init_cfg.checkpoint=BACKBONE_CKPT
_base_ = './vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py'

data_root = 'data/cifar10'
embed_dims = 128
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=4,
            num_heads=4,
            feedforward_channels=4 * embed_dims),
        img_size=32,
        patch_size=4,
        drop_path_rate=0.1),
    head=dict(num_classes=10, in_channels=embed_dims))
data_preprocessor = dict(num_classes=10)

bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.35, 1.0),  # 0.08 of 32 px leaves ~9 px
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='test',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(lr=1e-3), paramwise_cfg=dict(layer_decay_rate=0.75))
max_iters = 600
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=60),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=60,
        end=max_iters,
        eta_min=1e-6)
]
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(
        _delete_=True,
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
