# BEiT v2 ViT-L/16, 300 epochs (docs/official.md §2.6): 24 layers, width 1024,
# the aggregation branch takes the 21st block, layer scale 1e-5, 64 GPUs x 32.
_base_ = './beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py'

model = dict(
    backbone=dict(
        arch='large', out_indices=(20, 23), layer_scale_init_value=1e-5),
    neck=dict(arch='large', early_layers=21, layer_scale_init_value=1e-5),
    head=dict(embed_dims=1024))

train_dataloader = dict(batch_size=32)
