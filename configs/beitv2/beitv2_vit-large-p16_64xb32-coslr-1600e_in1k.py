# BEiT v2 ViT-L/16, 1600 epochs: the large 300e config with what differs
# for 1600 epochs (betas (0.9, 0.999), drop path 0.1, schedule length).
_base_ = './beitv2_vit-large-p16_64xb32-coslr-300e_in1k.py'

model = dict(backbone=dict(drop_path_rate=0.1), neck=dict(drop_path_rate=0.1))
optim_wrapper = dict(optimizer=dict(betas=(0.9, 0.999)))
# lists are replaced whole: the same warmup, the cosine to 1600
param_scheduler = [
    _base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=1600)]
train_cfg = dict(max_epochs=1600)
