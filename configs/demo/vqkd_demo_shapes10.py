# VQ-KD tokenizer training for the demo (tools/run_demo.py, stage 1):
# ViT 4x128 encoder, 1-block decoder, K=512 codes, the offline
# EfficientNet-Lite0 teacher at 128 px, 32 px images. The recipe follows
# spec §1.6 scaled down (AdamW betas (0.9, 0.99), wd 1e-4, cosine,
# no grad clip); the lr is higher because the run is ~100x shorter.
_base_ = ['./_base_/shapes10_settings.py', './_base_/demo_runtime.py']

model = dict(
    _base_.tokenizer,
    teacher=dict(
        type='EfficientNetLite0Teacher',
        input_size=_base_.teacher_size,
        block_index=10),
    data_preprocessor=_base_.unit_range_preprocessor)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # spec §1.6 uses scale (0.08, 1) at 224 px; at 32 px that crop would
    # leave a few pixels, so keep at least 35% of the image.
    dict(
        type='RandomResizedCrop',
        scale=_base_.img_size,
        crop_ratio_range=(0.35, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=_base_.img_size,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=_base_.img_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='mmpretrain.CustomDataset',
        data_root=_base_.data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmpretrain.CustomDataset',
        data_root=_base_.data_root,
        data_prefix='val',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# usage / perplexity / unused / K / rec_cos_distance on the whole val split.
val_evaluator = dict(type='CodebookUsageMetric', num_embed=_base_.num_embed)
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.99), weight_decay=1e-4),
    # No decay on 1-D params, biases, cls_token, pos_embed (spec §1.6).
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'cls_token': dict(decay_mult=0.),
            'pos_embed': dict(decay_mult=0.),
        }))
max_epochs = 4
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=2)
val_cfg = dict()
test_cfg = dict()
