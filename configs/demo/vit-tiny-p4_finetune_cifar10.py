# CIFAR-10 benchmark stage 6 (tools/run_demo.py --preset cifar): a short
# end-to-end fine-tune of the pretrained 4x128 ViT. The ViT-B fine-tune recipe
# (docs/official.md §3.1-§3.4: per-block rel-pos tables copied from the shared
# one, mean-pooled patch tokens + fresh LayerNorm, AdamW 5e-4, layer decay
# 0.65, label smoothing 0.1) at 32 px for 2 epochs; Mixup/CutMix are off, they
# need far more epochs than this budget has.
_base_ = [
    '../beitv2/benchmarks/'
    'vit-base-p16_beitv2-300e-pre_8xb128-coslr-100e_in1k.py'
]

data_root = 'data/cifar10/'
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, embed_dims=128, num_layers=4, num_heads=4,
            feedforward_channels=512),
        img_size=32,
        patch_size=4,
        drop_path_rate=0.1),
    head=dict(num_classes=10, in_channels=128, topk=(1, )),
    train_cfg=None)

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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=37,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=250,
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

max_epochs = 2
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=0.25, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0.25,
         end=max_epochs, eta_min=1e-6, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1,
        save_best=None))
work_dir = './work_dirs/cifar_benchmark/finetune'
