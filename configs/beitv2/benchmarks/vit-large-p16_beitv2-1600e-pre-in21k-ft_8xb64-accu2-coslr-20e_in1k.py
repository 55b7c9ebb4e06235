# ImageNet-21k -> 1k fine-tuning of BEiT v2 ViT-L/16 (docs/official.md §3.4;
# paper 88.4 top-1): lr 7e-5, 20 epochs, warmup 5, layer decay 0.8, drop path
# 0.25, batch 8 GPUs x 64 x 2 accumulation steps.
_base_ = './vit-base-p16_beitv2-1600e-pre-in21k-ft_8xb128-coslr-30e_in1k.py'

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.25),
    head=dict(in_channels=1024))
train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader
optim_wrapper = dict(
    accumulative_counts=2,
    optimizer=dict(lr=7e-5),
    paramwise_cfg=dict(layer_decay_rate=0.8))
# warmup and cosine of the base schedule, other lengths
param_scheduler = [dict(_base_.param_scheduler[0], end=5),
                   dict(_base_.param_scheduler[1], begin=5, end=20)]
train_cfg = dict(max_epochs=20)
