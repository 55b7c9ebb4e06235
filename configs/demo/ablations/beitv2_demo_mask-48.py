# Ablation of the demo student (docs/ablations.md): 48 of the 64 patches
# masked (75%, MAE's share) instead of 26 (the paper's ~40%); see
# beitv2_demo_mask-38.py.
_base_ = ['./beitv2_demo_mask-38.py']

train_pipeline = [
    *_base_.train_pipeline[:4],
    dict(_base_.train_pipeline[4], num_masking_patches=48),
    _base_.train_pipeline[5],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
