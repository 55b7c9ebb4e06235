# A small CPU BEiT v2 pretraining run on CIFAR-10 (32 px, patch 4 -> 8x8
# patches) on top of the small VQ-KD tokenizer of
# configs/vqkd/vqkd_vit-4x128-p4_1x128x4-effnet-lite0_1xb64-5e_cifar10.py
# (K = 1024, same 8x8 grid). The primitive ImageNet config, shrunk.
# Run (see README.md):
#   python tools/train.py configs/beitv2/THIS_FILE \
#       --cfg-options model.target_generator.init_cfg.checkpoint=CKPT
_base_ = './beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py'

# 4 blocks of width 128 (the 2 CPU cores are shared); the aggregation
# branch takes the 3rd block, as the official tiny fixture (3 of 4). The
# neck's arch and the head's width follow the backbone's (BEiTv2).
tokenizer_arch = dict(
    embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)

model = dict(
    backbone=dict(
        # _delete_: replaces the base's arch='base' (a string)
        arch=dict(
            _delete_=True, embed_dims=128, num_layers=4, num_heads=4,
            feedforward_channels=512),
        img_size=32,
        patch_size=4),
    neck=dict(early_layers=3),
    head=dict(num_embed=1024),
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
        # the ONE tokenizer field (--cfg-options sets it)
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/vqkd_cifar/tokenizer_cifar10.pth')))

# mmpretrain's two-view pipeline at 32 px (the CIFAR-10 results in the
# README were measured with it; the ImageNet configs use the official PIL
# views, docs/data_pipelines.md): the same load, colour jitter and flip.
train_pipeline = [
    *_base_.mmpretrain_train_pipeline[:3],
    # crop scale as the tokenizer's own training crops (0.35-1) rather than
    # the official 0.2: a 6 px crop of a 32 px image carries little.
    dict(_base_.mmpretrain_train_pipeline[3], size=32, second_size=32,
         scale=(0.35, 1.0)),
    # 26 of 64 patches (40.6%); min block 8 patches (the official 16 of
    # 196 would be ~5 here).
    dict(type='BlockwiseMaskGenerator', input_size=32, patch_size=4,
         num_masking_patches=26, min_num_patches=8),
    _base_.mmpretrain_train_pipeline[-1],
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/cifar10/',
        data_prefix='train',
        pipeline=train_pipeline))

# Short run (2 shared CPU cores): 400 iterations of 32 images (12,800
# images, 1/4 epoch), 20 warmup iterations, cosine to 1e-5; the official
# peak lr, betas, wd and clip.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=20),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=False,
        begin=20,
        end=400),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=400)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=400, max_keep_ckpts=1))
# accuracies averaged over the 5 iterations of each log line, like losses
log_processor = dict(
    by_epoch=False,
    window_size=5,
    mean_pattern=r'.*(loss|time|data_time|grad_norm|acc).*')
env_cfg = dict(dist_cfg=dict(backend='gloo'))
work_dir = './work_dirs/beitv2_cifar'
