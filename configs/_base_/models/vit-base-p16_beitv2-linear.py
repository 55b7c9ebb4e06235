# Linear probe of a frozen BEiT v2 ViT-B/16 (BEiT v1 run_linear_eval.py
# protocol): the final [CLS] token (trained by the patch-aggregation head),
# BatchNorm without affine (MAE) + a linear layer.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='BEiTv2ViT', arch='base', img_size=224, patch_size=16,
        # the pretraining layout: one shared table, layer scale, no
        # final norm on the probed token (BEiT v1 protocol)
        use_shared_rel_pos_bias=True,
        use_rel_pos_bias=False,
        out_type='cls_token',
        # requires_grad False + eval mode: the probe never runs the
        # backbone backward
        frozen=True,
        # Set with --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='ClsBatchNormNeck', input_features=768),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.)))
