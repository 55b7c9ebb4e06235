# The linear probe of vit-base-p16_beitv2-linear.py on the small CPU ViT:
# 4 blocks of width 128 (4 heads, MLP 512), 32 px, patch 4 -> 8x8 tokens,
# 10 classes.
_base_ = './vit-base-p16_beitv2-linear.py'

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=128, num_layers=4, num_heads=4,
                  feedforward_channels=512),
        img_size=32, patch_size=4),
    neck=dict(input_features=128),
    head=dict(num_classes=10, in_channels=128))
