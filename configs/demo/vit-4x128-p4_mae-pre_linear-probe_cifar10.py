# CIFAR-10 benchmark, stage probe_mae: the probe of
# vit-4x128-p4_linear-probe_cifar10.py on the encoder of the MAE baseline
# (mae_vit-4x128-p4_cifar10.py). MAE's encoder is mmpretrain's
# VisionTransformer (learned qkv bias, fixed sin-cos position embedding,
# final LayerNorm), so it is probed as that class, per block
# [CLS ; mean patch], exactly as the BEiT v2 student.
# run_demo.py sets model.backbone.init_cfg.checkpoint to the MAE run.
_base_ = ['./vit-4x128-p4_linear-probe_cifar10.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch=dict(embed_dims=128, num_layers=4, num_heads=4,
                  feedforward_channels=512),
        img_size=32,
        patch_size=4,
        out_type='raw',
        out_indices=[0, 1, 2, 3],
        frozen_stages=4,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
work_dir = './work_dirs/cifar_benchmark/probe_mae'
