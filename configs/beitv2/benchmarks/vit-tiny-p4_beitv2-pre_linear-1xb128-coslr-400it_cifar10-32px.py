# A short CPU linear probe on CIFAR-10 JPEGs (32 px) of the small BEiT v2
# (4 blocks, width 128, patch 4): the protocol of
# vit-base-p16_beitv2-1600e-pre_linear-8xb128-coslr-100e_in1k.py (frozen
# backbone, final [CLS], BatchNorm + linear), 400 iterations.
#   python tools/train.py configs/beitv2/benchmarks/THIS_FILE \
#       --cfg-options model.backbone.init_cfg.checkpoint=BACKBONE_CKPT
_base_ = './vit-base-p16_beitv2-1600e-pre_linear-8xb128-coslr-100e_in1k.py'

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
        patch_size=4),
    neck=dict(input_features=embed_dims),
    head=dict(num_classes=10, in_channels=embed_dims))
data_preprocessor = dict(num_classes=10)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.35, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=128,
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

optim_wrapper = dict(optimizer=dict(lr=4e-3 * 128 / 1024))
max_iters = 400
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        eta_min=0.)
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
