# Ablation of the patch-aggregation layer l (paper §3.3, Table 6: l = 9 of
# 12 for ViT-B; the demo takes block 3 of 4): the neck reads the patches of
# block 2 instead, a shallower early layer and a larger bottleneck.
_base_ = ['../beitv2_demo_cifar10-subset.py']

model = dict(
    backbone=dict(out_indices=(1, 3)), neck=dict(early_layers=2))
