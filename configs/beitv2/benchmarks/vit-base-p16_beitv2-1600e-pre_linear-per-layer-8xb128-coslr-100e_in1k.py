# Per-layer linear probe of BEiT v2 ViT-B/16 (BEiT v1 protocol, spec
# §3.5): one BatchNorm + linear classifier per block on
# [x[:, 0]; mean(x[:, 1:])] of every block output of the frozen backbone;
# PerLayerAccuracy reports every layer and the best one.
_base_ = './vit-base-p16_beitv2-1600e-pre_linear-8xb128-coslr-100e_in1k.py'

num_layers = 12
model = dict(
    backbone=dict(out_type='raw', out_indices=list(range(num_layers))),
    neck=None,
    head=dict(
        _delete_=True,
        type='PerLayerLinearClsHead',
        num_classes=1000,
        in_channels=768,
        num_layers=num_layers,
        feature='cls_mean',
        with_bn=True))
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='PerLayerAccuracy'),
]
test_evaluator = val_evaluator
