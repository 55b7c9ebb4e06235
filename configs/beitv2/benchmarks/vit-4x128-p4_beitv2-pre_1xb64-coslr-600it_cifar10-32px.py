# A short CPU fine-tune on CIFAR-10 JPEGs (32 px) of the small BEiT v2 of
# configs/beitv2/beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py (4
# blocks, width 128, patch 4 -> 8x8 tokens): the ImageNet recipe (layer
# decay, mixup/cutmix, RandAugment, random erasing, label smoothing,
# mean-pooled patch tokens + fresh LayerNorm) shrunk to 32 px and 600
# iterations. Data layout: data/cifar10/{train,test}/<class>/*.jpg.
#   python tools/train.py configs/beitv2/benchmarks/THIS_FILE \
#       --cfg-options model.backbone.init_cfg.checkpoint=BACKBONE_CKPT
_base_ = [
    '../../_base_/models/vit-4x128-p4_beitv2-finetune.py',
    '../../_base_/datasets/cifar10_bs128_32px_iter.py',
    '../../_base_/schedules/beitv2-finetune_adamw-layer-decay-coslr-100e.py',
    '../../_base_/cls_runtime_iter.py',
]

embed_dims = 128  # the 4x128 ViT's width (set by the model base)

# the 32 px crop and flip, then the ImageNet recipe's RandAugment and
# random erasing
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    _base_.train_pipeline[-1],
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    optimizer=dict(lr=1e-3), paramwise_cfg=dict(layer_decay_rate=0.75))
max_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=60),
    # the official floor: 1e-6 x each group's layer-decay scale
    dict(type='LayerDecayCosineAnnealingLR', by_epoch=False, begin=60,
         end=max_iters, eta_min=1e-6)
]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
