# CIFAR-10 JPEGs (ImageFolder layout: data/cifar10/{train,test}/<class>/
# *.jpg) at their 32 px, for the small CPU classification runs: mmpretrain's
# ImageNet classification settings (mean/std, samplers), a
# 32 px crop for training and a resize/crop for evaluation.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py'

data_root = 'data/cifar10/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # crop scale 0.35-1: 0.08 of 32 px leaves ~9 px
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.35, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# Resize(round(32 * 256 / 224) = 37) -> CenterCrop(32), the ImageNet eval
# ratio (docs/official.md §3.4), as tools/analysis_tools/get_tokens.py.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=37, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=2,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
# the same dataset settings on the test split
val_dataloader = dict(
    train_dataloader,
    batch_size=250,
    dataset=dict(
        train_dataloader['dataset'],
        data_prefix='test',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
