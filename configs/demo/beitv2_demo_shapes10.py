# Demo stage 2 (tools/run_demo.py): BEiT v2 pretraining on shapes10 on top
# of the demo tokenizer (vqkd_demo_shapes10.py), i.e. the primitive
# ImageNet config shrunk as the small CPU CIFAR-10 config of configs/beitv2/
# does: 32 px, patch 4 (8x8 grid), a 4x128 ViT with aggregation from the
# 3rd block, K = 1024, 26 of 64 patches masked, the official optimizer
# (AdamW 1.5e-3, betas (0.9, 0.98), wd 0.05, clip 3.0; spec §2.6).
# run_demo.py sets model.target_generator.init_cfg.checkpoint and the data.
_base_ = ['../beitv2/beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py']

# The student; vit-tiny-p4_linear-probe_demo_shapes10.py must match it.
arch = dict(
    embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
# The tokenizer of vqkd_demo_shapes10.py (its CIFAR-10 base), tokens only.
tokenizer_arch = dict(
    embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **arch),
        img_size=32,
        patch_size=4,
        out_indices=(2, 3)),
    neck=dict(arch=dict(_delete_=True, **arch), early_layers=3),
    head=dict(embed_dims=128, num_embed=1024),
    target_generator=dict(
        _delete_=True,
        type='VQKDTokenizer',
        encoder=dict(arch=tokenizer_arch, img_size=32, patch_size=4),
        decoder=dict(
            arch=dict(tokenizer_arch, num_layers=1),
            img_size=8,
            patch_size=1,
            in_channels=32),
        quantizer=dict(num_embed=1024, embed_dims=32),
        decoder_out_dims=112,
        teacher=None,
        # the ONE tokenizer field (run_demo.py sets it)
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/demo/vqkd/epoch_2.pth')))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # crop scale 0.35-1 as the tokenizer's training crops (the official
    # 0.2 of a 32 px image leaves a 14 px crop)
    dict(
        type='RandomResizedCropAndInterpolationWithTwoPic',
        size=32,
        second_size=32,
        interpolation='bicubic',
        second_interpolation='bicubic',
        scale=(0.35, 1.0)),
    # 26 of 64 patches (40.6%, the official 75/196 is 38%); min block 8
    dict(
        type='BlockwiseMaskGenerator',
        input_size=32,
        patch_size=4,
        num_masking_patches=26,
        min_num_patches=8),
    dict(type='PackInputs', algorithm_keys=['mask']),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/shapes10/',
        data_prefix='train',
        pipeline=train_pipeline))

# 250 iterations of 64 = 8 epochs of the demo's 2,000 train images
# (~4 CPU s per iteration, measured; docs/demo.md); 30 warmup iterations,
# cosine to 1e-5.
max_iters = 250
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=30),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=30,
         end=max_iters),
]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=50,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
work_dir = './work_dirs/demo/pretrain'
