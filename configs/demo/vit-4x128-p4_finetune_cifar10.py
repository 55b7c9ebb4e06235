# CIFAR-10 benchmark stage 6 (tools/run_demo.py --preset cifar): a short
# end-to-end fine-tune of the pretrained 4x128 ViT. The ViT-B fine-tune
# recipe (docs/official.md §3.1-§3.4: per-block rel-pos tables copied from
# the shared one, mean-pooled patch tokens + fresh LayerNorm, AdamW 5e-4,
# layer decay 0.65, label smoothing 0.1) at 32 px for 2 epochs;
# Mixup/CutMix are off, they need far more epochs than this budget has.
_base_ = [
    '../_base_/models/vit-4x128-p4_beitv2-finetune.py',
    '../_base_/datasets/cifar10_bs128_32px.py',
    '../_base_/schedules/beitv2-finetune_adamw-layer-decay-coslr-100e.py',
    '../_base_/cls_runtime.py',
]

model = dict(head=dict(topk=(1, )), train_cfg=None)
# layer decay 0.65, the value for 300-epoch pretraining (docs/official.md
# §3.4)
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))

max_epochs = 2
param_scheduler = [dict(_base_.param_scheduler[0], end=0.25),
                   dict(_base_.param_scheduler[1], begin=0.25, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # no best-checkpoint tracking (rule is unused without save_best)
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1,
        save_best=None, rule='greater'))
work_dir = './work_dirs/cifar_benchmark/finetune'
