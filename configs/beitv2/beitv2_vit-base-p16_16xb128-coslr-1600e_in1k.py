# BEiT v2 ViT-B/16, 1600 epochs (docs/official.md §2.6): only what differs from
# 300e: betas (0.9, 0.999), drop path 0.1 and the schedule length.
_base_ = './beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py'

model = dict(backbone=dict(drop_path_rate=0.1), neck=dict(drop_path_rate=0.1))

optim_wrapper = dict(optimizer=dict(betas=(0.9, 0.999)))

# lists are replaced whole
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=10,
        end=1600,
        convert_to_iter_based=True),
]

train_cfg = dict(max_epochs=1600)
