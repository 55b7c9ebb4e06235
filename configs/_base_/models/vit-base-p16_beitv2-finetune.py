# BEiT v2 ViT-B/16 image classifier for end-to-end fine-tuning
# (docs/official.md §3.1-§3.4): mean-pooled patch tokens + a fresh
# LayerNorm, a linear head, Mixup/CutMix with label smoothing.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='BEiTv2ViT',
        arch='base',
        img_size=224,
        patch_size=16,
        # fc_norm(mean of patch tokens), a fresh LayerNorm
        # (docs/official.md §3.1)
        out_type='avg_featmap',
        # per-block tables initialised from the shared one
        # (docs/official.md §3.2.3)
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
        # official trunc_normal(.02) then x0.001 (docs/official.md §3.1)
        # = N(0, 2e-5) (the +-2 truncation is irrelevant at this scale)
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5)),
    # timm Mixup(mixup 0.8, cutmix 1.0, switch_prob 0.5): one of the two
    # per batch, each with probability 0.5 (docs/official.md §3.4)
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))
