# VQ-KD data (docs/official.md §1.6): RandomResizedCrop(224, (0.08, 1),
# bicubic) + flip, no colour jitter, no mean/std (the data preprocessor gives
# [0, 1]).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

# PIL decoding as the official loader (Image.open(f).convert('RGB'), EXIF
# orientation not applied); with it the crop, resize and eval resize equal
# torchvision's (benchmarks/compare_views.py,
# docs/data_pipelines.md).
train_pipeline = [
    dict(
        type='LoadImageFromFile',
        imdecode_backend='pillow',
        color_type='color_ignore_orientation'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.08, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# Resize(256, bicubic) -> CenterCrop(224), as the official eval.
test_pipeline = [
    dict(
        type='LoadImageFromFile',
        imdecode_backend='pillow',
        color_type='color_ignore_orientation'),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        interpolation='bicubic',
        backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True,  # as the official loader
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=96,  # 1.5 x the training batch (official)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline))
val_evaluator = dict(type='CodebookUsageMetric', num_embed=8192)
