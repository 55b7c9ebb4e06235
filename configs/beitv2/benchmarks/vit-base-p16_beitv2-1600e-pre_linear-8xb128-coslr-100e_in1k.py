# Linear probing of BEiT v2 ViT-B/16 (paper 80.1 top-1, spec §3.5).
# The official code ships no probe; protocol (README.md): frozen backbone
# in eval mode, the final [CLS] token (trained by the patch-aggregation
# head; use model.backbone.out_type='avg_featmap' for models pretrained
# without it), BatchNorm without affine (MAE) + a linear layer, AdamW,
# cosine over 100 epochs, RandomResizedCrop + flip (BEiT v1
# run_linear_eval.py recipe).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmbeitv2'
# mmbeitv2's registries are children of mmpretrain's; a child lookup does
# not import the parent's modules, so import them here (tools/train.py or
# not).
custom_imports = dict(
    imports=[
        'mmpretrain.datasets', 'mmpretrain.engine', 'mmpretrain.evaluation',
        'mmpretrain.models', 'mmpretrain.visualization', 'mmbeitv2.models',
        'mmbeitv2.evaluation'
    ],
    allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='BEiTv2ViT',
        arch='base',
        img_size=224,
        patch_size=16,
        # the pretraining layout: one shared table, layer scale, no
        # final norm on the probed token (BEiT v1 protocol)
        use_shared_rel_pos_bias=True,
        use_rel_pos_bias=False,
        out_type='cls_token',
        # requires_grad False + eval mode: the probe never runs the
        # backbone backward
        frozen=True,
        # Set with --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='ClsBatchNormNeck', input_features=768),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# 8 GPUs x 128 = 1024
train_dataloader = dict(
    batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    # lr 4e-3 at batch 1024 (1e-3 * bs / 256), wd 1e-4 (BEiT v1 probe)
    optimizer=dict(type='AdamW', lr=4e-3, weight_decay=1e-4,
                   betas=(0.9, 0.999)))
max_epochs = 100
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        eta_min=0.,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
randomness = dict(seed=0)
