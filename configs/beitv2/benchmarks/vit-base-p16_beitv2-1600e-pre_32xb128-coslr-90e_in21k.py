# Intermediate ImageNet-21k fine-tuning of BEiT v2 ViT-B/16 (docs/official.md
# §3.4): 21,841 classes, lr 6e-4, 90 epochs, warmup 20, layer decay 0.75, drop
# path 0.1, batch 32 GPUs x 128 = 4096, mixup/cutmix, no evaluation.
_base_ = './vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py'

model = dict(
    backbone=dict(drop_path_rate=0.1), head=dict(num_classes=21841))
data_preprocessor = dict(num_classes=21841)
train_dataloader = dict(
    dataset=dict(
        type='ImageNet21k', data_root='data/imagenet21k', split='train'))
# The official 21k run does no evaluation (docs/official.md §3.4).
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

optim_wrapper = dict(
    optimizer=dict(lr=6e-4), paramwise_cfg=dict(layer_decay_rate=0.75))
# warmup and cosine of the base schedule, other lengths
param_scheduler = [dict(_base_.param_scheduler[0], end=20),
                   dict(_base_.param_scheduler[1], begin=20, end=90)]
train_cfg = dict(max_epochs=90)
default_hooks = dict(
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=1,
                    max_keep_ckpts=2))
