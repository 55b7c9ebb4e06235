# UperNet on ADE20K with a BEiT v2 ViT-L/16 backbone (docs/official.md §4;
# paper 56.7 mIoU): features of blocks [7, 11, 15, 23], channels 1024, drop
# path 0.2, layer scale init 1e-6 (overwritten by the checkpoint), lr 4e-5,
# layer decay 0.9.
_base_ = './upernet_vit-base-p16_beitv2-1600e-pre_8xb2-160k_ade20k-512x512.py'

embed_dims = 1024
model = dict(
    backbone=dict(
        arch='large',
        out_indices=[7, 11, 15, 23],
        layer_scale_init_value=1e-6,
        drop_path_rate=0.2),
    neck=dict(embed_dim=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, channels=embed_dims),
    auxiliary_head=dict(in_channels=embed_dims))
optim_wrapper = dict(
    optimizer=dict(lr=4e-5),
    paramwise_cfg=dict(num_layers=24, layer_decay_rate=0.9))
