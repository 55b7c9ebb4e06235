# A short CPU linear probe on CIFAR-10 JPEGs (32 px) of the small BEiT v2
# (4 blocks, width 128, patch 4): the protocol of
# vit-base-p16_beitv2-1600e-pre_linear-8xb128-coslr-100e_in1k.py (frozen
# backbone, final [CLS], BatchNorm + linear), 400 iterations.
#   python tools/train.py configs/beitv2/benchmarks/THIS_FILE \
#       --cfg-options model.backbone.init_cfg.checkpoint=BACKBONE_CKPT
_base_ = [
    '../../_base_/models/vit-4x128-p4_beitv2-linear.py',
    '../../_base_/datasets/cifar10_bs128_32px_iter.py',
    '../../_base_/schedules/linear-probe_adamw-coslr-100e.py',
    '../../_base_/cls_runtime_iter.py',
]

embed_dims = 128  # the 4x128 ViT's width (set by the model base)

# the probe's lr rule (1e-3 * bs / 256, i.e. 4e-3 at 1024) at batch 128
optim_wrapper = dict(optimizer=dict(lr=4e-3 * 128 / 1024))
max_iters = 400
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         eta_min=0.)
]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
