# Intermediate ImageNet-21k fine-tuning of BEiT v2 ViT-L/16 (docs/official.md
# §3.4): as the base recipe with drop path 0.2. The large layer decay is not
# stated in the official notes; 0.75 (the base command's) is kept.
_base_ = './vit-base-p16_beitv2-1600e-pre_32xb128-coslr-90e_in21k.py'

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2),
    head=dict(in_channels=1024))
