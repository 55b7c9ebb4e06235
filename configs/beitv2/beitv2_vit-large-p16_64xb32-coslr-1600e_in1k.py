# BEiT v2 ViT-L/16, 1600 epochs: the large 300e config with what differs
# for 1600 epochs (betas (0.9, 0.999), drop path 0.1, schedule length).
_base_ = './beitv2_vit-large-p16_64xb32-coslr-300e_in1k.py'

model = dict(backbone=dict(drop_path_rate=0.1), neck=dict(drop_path_rate=0.1))

optim_wrapper = dict(optimizer=dict(betas=(0.9, 0.999)))

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
