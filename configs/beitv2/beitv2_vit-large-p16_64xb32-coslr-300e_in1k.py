# BEiT v2 ViT-L/16, 300 epochs (docs/official.md §2.6): 24 layers, width 1024,
# the aggregation branch takes the 21st block, layer scale 1e-5, 64 GPUs x 32.
_base_ = './beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py'

# The neck's arch and the head's width follow the backbone's (BEiTv2).
model = dict(
    backbone=dict(arch='large', layer_scale_init_value=1e-5),
    neck=dict(early_layers=21, layer_scale_init_value=1e-5))

train_dataloader = dict(batch_size=32)
