# Ablation of the patch-aggregation layer l (paper §3.3, Table 6: l = 9 of
# 12 for ViT-B; the demo takes block 3 of 4): the neck reads the patches of
# block 2 instead, a shallower early layer and a larger bottleneck.
_base_ = ['../beitv2_demo_cifar10-subset.py']

# the backbone returns blocks 2 and 4 (BEiTv2 derives them)
model = dict(neck=dict(early_layers=2))
