# The paper's VQ-KD recipe (docs/official.md §1.6): 8 GPUs x 64, 100
# epochs, AdamW (0.9, 0.99), lr 5e-5 per 128 images, wd 1e-4, 10 warmup
# epochs, cosine to 1e-5, no grad clipping.
_base_ = [
    '../_base_/models/vqkd_vit-base-p16.py',
    '../_base_/datasets/imagenet_bs64_vqkd.py',
    '../_base_/schedules/vqkd_adamw-coslr-100e.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmbeitv2'

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
custom_hooks = [dict(type='CodebookUsageHook')]
randomness = dict(seed=0, diff_rank_seed=True)  # seed 0 + rank (official)
