# BEiT v2 ViT-B/16 fine-tuning from 300-epoch pretraining (docs/official.md
# §3.4; paper 85.0 top-1): drop path 0.1 and layer decay 0.65.
_base_ = './vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(drop_path_rate=0.1))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
