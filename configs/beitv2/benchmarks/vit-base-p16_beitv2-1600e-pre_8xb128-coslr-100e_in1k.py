# BEiT v2 ViT-B/16 ImageNet-1k fine-tuning from 1600-epoch pretraining
# (docs/official.md §3.1-§3.4; paper 85.5 top-1). The primitive of every
# fine-tune config.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmbeitv2'
# mmbeitv2's registries are children of mmpretrain's; a child lookup does
# not import the parent's modules, so import them here (tools/train.py or
# not).
custom_imports = dict(
    imports=[
        'mmpretrain.datasets', 'mmpretrain.engine', 'mmpretrain.evaluation',
        'mmpretrain.models', 'mmpretrain.visualization', 'mmbeitv2.models',
        'mmbeitv2.evaluation'
    ],
    allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='BEiTv2ViT',
        arch='base',
        img_size=224,
        patch_size=16,
        # fc_norm(mean of patch tokens), a fresh LayerNorm (docs/official.md
        # §3.1)
        out_type='avg_featmap',
        # per-block tables initialised from the shared one (docs/official.md
        # §3.2.3)
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        init_style='finetune',
        # 0.2 for 1600e, 0.1 for 300e (docs/official.md §3.4)
        drop_path_rate=0.2,
        # Set with --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        # Mixup/CutMix soft targets smoothed by 0.1 = timm's mixup_target
        # with smoothing folded in (docs/official.md §3.4)
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        # official trunc_normal(.02) then x0.001 (docs/official.md §3.1) = N(0,
        # 2e-5) (the +-2 truncation is irrelevant at this scale)
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5)),
    # timm Mixup(mixup 0.8, cutmix 1.0, switch_prob 0.5): one of the two
    # per batch, each with probability 0.5 (docs/official.md §3.4)
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))

# 8 GPUs x 128 = 1024 (docs/official.md §3.4); lrs are absolute, not
# batch-scaled.
train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4, weight_decay=0.05, betas=(0.9, 0.999),
        eps=1e-8),
    # scale = layer_decay^(L+1-layer_id), ids from
    # BEiTv2ViT.get_layer_depth (docs/official.md §3.3)
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        _delete_=True,
        # 0.6 for 1600e, 0.65 for 300e (docs/official.md §3.4)
        layer_decay_rate=0.6,
        # no weight decay: ndim <= 1 (biases, norms, q/v bias, gamma),
        # cls_token and pos_embed; rel-pos tables are decayed (docs/official.md
        # §3.3)
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))

warmup_epochs = 20
max_epochs = 100
# linear warmup from ~0 (the official 0; LinearLR cannot start at exactly
# 0), then per-iteration cosine to 1e-6 (docs/official.md §3.3, §6.10)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        eta_min=1e-6,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# keep the best checkpoint by top-1 (docs/official.md §3.4)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='accuracy/top1',
        rule='greater'))
randomness = dict(seed=0)
