# BEiT v2 pretraining data (docs/official.md §2.4-§2.5): one crop / flip /
# colour jitter shared by the model view (224, bicubic) and the tokenizer
# view (224, bicubic); a block-wise mask of 75 of the 14x14 patches per
# image. The views are the official DataAugmentationForBEiT's (microsoft/unilm
# beit2/datasets.py) given the same random draws: PIL decoding, PIL colour
# jitter, PIL resize (docs/data_pipelines.md).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    # PIL decoding as the official loader (Image.open(f).convert('RGB'),
    # EXIF orientation not applied); mmcv returns BGR and the data
    # preprocessor's to_rgb flips both views back.
    dict(
        type='LoadImageFromFile',
        imdecode_backend='pillow',
        color_type='color_ignore_orientation'),
    # torchvision's ColorJitter(0.4, 0.4, 0.4) on the full PIL image, then
    # the flip, both drawn with torch as the official transforms.
    dict(
        type='PILColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.),
    dict(type='TorchRandomFlip', prob=0.5),
    # One crop box (python random) resized twice with PIL: img = [model
    # view, tokenizer view]; min_crop_scale 0.2 and bicubic for both, as the
    # official command (--train_interpolation / --second_interpolation).
    dict(
        type='PILRandomResizedCropWithTwoPic',
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

# mmpretrain's views (cv2 decoding and cv2 resize, about 35 dB PSNR from
# the official ones), kept for comparison. To train with them:
#   _base_ = './beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py'
#   train_dataloader = dict(
#       dataset=dict(pipeline={{_base_.mmpretrain_train_pipeline}}))
mmpretrain_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(train_pipeline[1], type='ColorJitter'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(train_pipeline[3],
         type='RandomResizedCropAndInterpolationWithTwoPic'),
    *train_pipeline[4:],  # the same mask generator and packing
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
