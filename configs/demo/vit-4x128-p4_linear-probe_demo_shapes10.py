# Demo stage 3 (tools/run_demo.py): linear probe of the demo backbone on
# shapes10. The protocol of the ViT-B probe config (frozen backbone in eval
# mode, final [CLS] token, BatchNorm without affine + a linear layer,
# AdamW, cosine), at the demo's 4x128 ViT, 32 px, patch 4, 10 classes.
# run_demo.py runs it twice: with model.backbone.init_cfg.checkpoint = the
# pretraining checkpoint, and with model.backbone.init_cfg=None (the
# random-init reference, same seed, same schedule).
_base_ = [
    '../_base_/models/vit-4x128-p4_beitv2-linear.py',
    '../_base_/datasets/cifar10_bs128_32px.py',
    '../_base_/schedules/linear-probe_adamw-coslr-100e.py',
    '../_base_/cls_runtime.py',
]

# The architecture of beitv2_demo_shapes10.py (its CIFAR-10 base), probed
# with the BEiT v1 per-layer protocol (docs/official.md §3.5; BEiT v2 ships
# no probe code): for every block output, [CLS ; mean of the patch tokens]
# -> an affine-free BatchNorm -> its own linear layer; ``accuracy/top1`` is
# the last block, ``per_layer/best_top1`` the best block. Short runs leave
# the last block's [CLS] (trained only through the aggregation head) weaker
# than the blocks below it; the per-layer probe shows where the pretrained
# features are, and the random-init reference gets the same protocol
# (run_demo.py runs both with this config).
num_layers = 4
model = dict(
    backbone=dict(out_type='raw', out_indices=list(range(num_layers))),
    neck=None,
    head=dict(
        _delete_=True, type='PerLayerLinearClsHead', num_classes=10,
        in_channels=128, num_layers=num_layers, feature='cls_mean',
        with_bn=True))

# the demo's train / val splits
data_root = 'data/shapes10/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root, data_prefix='val'))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='PerLayerAccuracy'),
]
test_evaluator = val_evaluator

# lr 1e-3 * bs / 256 (BEiT v1 probe rule) would be 5e-4; a short run
# needs more: 4e-3 (the ViT-B config's value), cosine over 8 epochs.
max_epochs = 8
param_scheduler = [dict(_base_.param_scheduler[0], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
work_dir = './work_dirs/demo_shapes10/probe'
