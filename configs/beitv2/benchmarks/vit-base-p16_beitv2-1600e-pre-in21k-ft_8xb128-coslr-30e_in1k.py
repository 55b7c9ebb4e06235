# ImageNet-21k -> 1k fine-tuning of BEiT v2 ViT-B/16 (docs/official.md §3.4;
# paper 86.5 top-1): lr 5e-5, 30 epochs, warmup 20, layer decay 0.75, drop path
# 0.1, no mixup/cutmix, label smoothing 0.1. Load the in21k checkpoint with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH (the prefix
# 'backbone.' keeps fc_norm = backbone.ln2 and drops the 21k head).
_base_ = './vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(drop_path_rate=0.1), train_cfg=None)
optim_wrapper = dict(
    optimizer=dict(lr=5e-5), paramwise_cfg=dict(layer_decay_rate=0.75))
# warmup and cosine of the base schedule, other lengths
param_scheduler = [dict(_base_.param_scheduler[0], end=20),
                   dict(_base_.param_scheduler[1], begin=20, end=30)]
train_cfg = dict(max_epochs=30)
