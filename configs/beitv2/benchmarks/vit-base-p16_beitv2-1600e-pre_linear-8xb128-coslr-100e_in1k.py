# Linear probing of BEiT v2 ViT-B/16 (paper 80.1 top-1, docs/official.md
# §3.5). The official code ships no probe; protocol (README.md): frozen
# backbone in eval mode, the final [CLS] token (trained by the
# patch-aggregation head; use model.backbone.out_type='avg_featmap' for
# models pretrained without it), BatchNorm without affine (MAE) + a linear
# layer, AdamW, cosine over 100 epochs, RandomResizedCrop + flip (BEiT v1
# run_linear_eval.py recipe).
_base_ = [
    '../../_base_/models/vit-base-p16_beitv2-linear.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../../_base_/schedules/linear-probe_adamw-coslr-100e.py',
    '../../_base_/cls_runtime.py',
]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# 8 GPUs x 128 = 1024
train_dataloader = dict(
    batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
