# A small CPU VQ-KD run on CIFAR-10 with the offline EfficientNet-Lite0
# teacher (no network). Tokenizer: 32 px, patch 4 -> an 8x8 code map; the
# teacher sees the image upsampled (bicubic) to 128 px, where its block-10
# output is 112 x 8 x 8, i.e. already on the tokenizer's grid.
# K = 1024 with dead-code restart (small data, docs/official.md §7.4).
# The paper model dict, shrunk below; its own data and a short schedule.
_base_ = [
    '../_base_/models/vqkd_vit-base-p16.py',
    '../_base_/datasets/cifar10_bs64_vqkd.py',
    '../_base_/schedules/vqkd_adamw-coslr-100e.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmbeitv2'
tiny_arch = dict(
    embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    encoder=dict(_delete_=True, arch=tiny_arch, img_size=32, patch_size=4),
    decoder=dict(
        arch=dict(tiny_arch, num_layers=1),
        img_size=8,
        patch_size=1,
        in_channels=32),
    quantizer=dict(num_embed=1024, embed_dims=32, dead_code_threshold=10),
    decoder_out_dims=112,
    teacher=dict(
        _delete_=True, type='EfficientNetLite0Teacher', input_size=128))

# The paper's AdamW setup (docs/official.md §1.6) at a short-run learning
# rate: 1 warmup epoch from 1e-3 of it, cosine to epoch 5.
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=1),
    dict(_base_.param_scheduler[1], begin=1, end=5),
]
train_cfg = dict(max_epochs=5, val_interval=5)
custom_hooks = [dict(type='CodebookUsageHook')]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
randomness = dict(seed=0, diff_rank_seed=True)
auto_scale_lr = dict(base_batch_size=64)
work_dir = './work_dirs/vqkd_cifar'
