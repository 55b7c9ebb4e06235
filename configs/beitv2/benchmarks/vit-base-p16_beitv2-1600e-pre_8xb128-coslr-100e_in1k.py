# BEiT v2 ViT-B/16 ImageNet-1k fine-tuning from 1600-epoch pretraining
# (docs/official.md §3.1-§3.4; paper 85.5 top-1). The primitive of every
# fine-tune config: the model, schedule and runtime are bases shared with
# the small CPU fine-tunes.
_base_ = [
    '../../_base_/models/vit-base-p16_beitv2-finetune.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../../_base_/schedules/beitv2-finetune_adamw-layer-decay-coslr-100e.py',
    '../../_base_/cls_runtime.py',
]

# 8 GPUs x 128 = 1024 (docs/official.md §3.4); lrs are absolute, not
# batch-scaled.
train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

# keep the best checkpoint by top-1 (docs/official.md §3.4)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='accuracy/top1',
        rule='greater'))
