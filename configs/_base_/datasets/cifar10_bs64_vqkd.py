# CIFAR-10 JPEGs (ImageFolder layout) for a small CPU VQ-KD run: 2,500 train
# images (every 20th) and 2,000 test images (every 5th), 32 px.
dataset_type = 'CustomDataset'
data_root = 'data/cifar10/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.35, 1.0),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# Resize(round(32 * 256 / 224) = 37) -> CenterCrop(32), as get_tokens.py.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=37,
        edge='short',
        interpolation='bicubic',
        backend='pillow'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        indices=list(range(0, 50000, 20)),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='test',
        indices=list(range(0, 10000, 5)),
        pipeline=test_pipeline))
val_evaluator = dict(type='CodebookUsageMetric', num_embed=1024)
