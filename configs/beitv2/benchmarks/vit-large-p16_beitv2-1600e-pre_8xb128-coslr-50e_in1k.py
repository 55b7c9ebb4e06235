# BEiT v2 ViT-L/16 fine-tuning from 1600-epoch pretraining (docs/official.md
# §3.4; paper 87.3 top-1): lr 2e-4, 50 epochs, warmup 5, layer decay 0.8, drop
# path 0.2.
_base_ = './vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py'

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2),
    head=dict(in_channels=1024))
optim_wrapper = dict(
    optimizer=dict(lr=2e-4), paramwise_cfg=dict(layer_decay_rate=0.8))
# warmup and cosine of the base schedule, other lengths
param_scheduler = [dict(_base_.param_scheduler[0], end=5),
                   dict(_base_.param_scheduler[1], begin=5, end=50)]
train_cfg = dict(max_epochs=50)
