# Demo stage 3 (tools/run_demo.py): linear probe of the demo backbone on
# shapes10. The protocol of the ViT-B probe config (frozen backbone in eval
# mode, final [CLS] token, BatchNorm without affine + a linear layer,
# AdamW, cosine), at the demo's 6x128 ViT, 32 px, patch 4, 10 classes.
# run_demo.py runs it twice: with model.backbone.init_cfg.checkpoint = the
# pretraining checkpoint, and with model.backbone.init_cfg=None (the
# random-init reference, same seed, same schedule).
_base_ = [
    '../beitv2/benchmarks/'
    'vit-base-p16_beitv2-1600e-pre_linear-8xb128-coslr-100e_in1k.py'
]

data_root = 'data/shapes10/'
# The architecture of beitv2_demo_shapes10.py (its CIFAR-10 base), probed with
# the BEiT v1 per-layer protocol (docs/official.md §3.5; BEiT v2 ships no probe
# code): for every block output, [CLS ; mean of the patch tokens] -> an
# affine-free BatchNorm -> its own linear layer; ``accuracy/top1`` is the last
# block, ``per_layer/best_top1`` the best block. Short runs leave the last
# block's [CLS] (trained only through the aggregation head) weaker than the
# blocks below it; the per-layer probe shows where the pretrained features are,
# and the random-init reference gets the same protocol (run_demo.py runs both
# with this config).
num_layers = 4
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, embed_dims=128, num_layers=num_layers,
            num_heads=4, feedforward_channels=512),
        img_size=32,
        patch_size=4,
        out_type='raw',
        out_indices=list(range(num_layers))),
    neck=None,
    head=dict(
        _delete_=True,
        type='PerLayerLinearClsHead',
        num_classes=10,
        in_channels=128,
        num_layers=num_layers,
        feature='cls_mean',
        with_bn=True))

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
# Resize(round(32 * 256 / 224) = 37) -> CenterCrop(32) (docs/official.md §3.4
# eval).
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
        data_prefix='val',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='PerLayerAccuracy'),
]
test_evaluator = val_evaluator

# lr 1e-3 * bs / 256 (BEiT v1 probe rule) would be 5e-4; a short run
# needs more: 4e-3 (the ViT-B config's value), cosine over 8 epochs.
max_epochs = 8
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
         eta_min=0., convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
work_dir = './work_dirs/demo/probe'
