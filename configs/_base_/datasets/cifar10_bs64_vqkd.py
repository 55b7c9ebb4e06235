# CIFAR-10 JPEGs (ImageFolder layout) for a small CPU VQ-KD run: the
# ImageNet VQ-KD data settings at 32 px; 2,500 train images (every 20th)
# and 2,000 test images (every 5th).
_base_ = './imagenet_bs64_vqkd.py'

dataset_type = 'CustomDataset'
data_root = 'data/cifar10/'

# mmcv's default (cv2) decoding, as the recorded CIFAR-10 results used
load = dict(type='LoadImageFromFile')
train_pipeline = [
    load,
    # crop scale 0.35-1 (0.08 of 32 px leaves ~9 px), default aspect ratios
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.35, 1.0),
         interpolation='bicubic', backend='pillow'),
    *_base_.train_pipeline[2:],
]
# Resize(round(32 * 256 / 224) = 37) -> CenterCrop(32), as get_tokens.py.
test_pipeline = [
    load,
    dict(_base_.test_pipeline[1], scale=37),
    dict(_base_.test_pipeline[2], crop_size=32),
    _base_.test_pipeline[3],
]
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        indices=list(range(0, 50000, 20)),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=2,
    dataset=dict(
        train_dataloader['dataset'],
        data_prefix='test',
        indices=list(range(0, 10000, 5)),
        pipeline=test_pipeline))
val_evaluator = dict(num_embed=1024)
