# Ablation (docs/ablations.md): the two rows that helped, together: the
# no-quantizer target (beitv2_demo_feature-regression.py) with 38 of 64
# patches masked (beitv2_demo_mask-38.py).
_base_ = ['./beitv2_demo_feature-regression.py']

train_pipeline = [
    *_base_.train_pipeline[:4],
    dict(_base_.train_pipeline[4], num_masking_patches=38),
    _base_.train_pipeline[5],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
