# A tiny ImageNet-1k classifier for tests: the fine-tune config of
# configs/beitv2/benchmarks with the arch of the official-layout test
# checkpoints (width 64, 4 blocks, 2 heads, FFN 128, patch 8) at 32 px, and
# the official eval transform scaled down (Resize 36 bicubic, CenterCrop 32,
# as 256/224).
_base_ = ('../../../configs/beitv2/benchmarks/'
          'vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py')
embed_dims = 64
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=4,
            num_heads=2,
            feedforward_channels=128),
        img_size=32,
        patch_size=8,
        drop_path_rate=0.,
        init_cfg=None),
    head=dict(in_channels=embed_dims))
test_pipeline = [
    _base_.test_pipeline[0],
    # int(32 * 256 / 224), the official eval resize (run_class_finetuning)
    dict(_base_.test_pipeline[1], scale=36),
    dict(_base_.test_pipeline[2], crop_size=32),
    _base_.test_pipeline[3],
]
test_dataloader = dict(
    batch_size=8, num_workers=0, dataset=dict(pipeline=test_pipeline))
