# BEiT v2 pretraining data (docs/official.md §2.4-§2.5): one crop / flip /
# colour jitter shared by the model view (224, bicubic) and the tokenizer view
# (224, bicubic); a block-wise mask of 75 of the 14x14 patches per image.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # ColorJitter(0.4, 0.4, 0.4), hue 0, on the full image (docs/official.md
    # §2.5.1)
    dict(
        type='ColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # One crop box resized twice: img = [model view, tokenizer view];
    # min_crop_scale 0.2 and bicubic for both, as the official command.
    dict(
        type='RandomResizedCropAndInterpolationWithTwoPic',
        size=224,
        second_size=224,
        interpolation='bicubic',
        second_interpolation='bicubic',
        scale=(0.2, 1.0)),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=224,
        patch_size=16,
        num_masking_patches=75,
        min_num_patches=16,
        min_aspect=0.3),
    dict(type='PackInputs', algorithm_keys=['mask']),
]

train_dataloader = dict(
    batch_size=128,  # per GPU; 16 GPUs x 128 = 2048 (docs/official.md §2.6)
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
