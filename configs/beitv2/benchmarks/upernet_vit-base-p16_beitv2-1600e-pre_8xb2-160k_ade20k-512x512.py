# UperNet on ADE20K with a BEiT v2 ViT-B/16 backbone (docs/official.md §4;
# paper 53.1 mIoU single-scale). mmsegmentation 1.x; mmseg's own BEiT backbone
# cannot load v2 checkpoints (docs/stack_notes.md #4), so the backbone is
# mmbeitv2's.
_base_ = [
    'mmseg::_base_/models/upernet_beit.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
default_scope = 'mmseg'
# mmbeitv2.seg first: it installs the mmcv.ops stand-in that mmseg needs with
# mmcv-lite (docs/stack_notes.md #1).
custom_imports = dict(
    imports=['mmbeitv2.seg', 'mmbeitv2.models'], allow_failed_imports=False)

crop_size = (512, 512)
embed_dims = 768
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='mmbeitv2.BEiTv2ViT',
        arch='base',
        img_size=512,  # 32x32 tokens; tables resized 27x27 -> 63x63
        patch_size=16,
        # raw block outputs, [CLS] removed, (B, C, H/16, W/16)
        # (docs/official.md §4)
        out_type='featmap',
        out_indices=[3, 5, 7, 11],
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.1,
        init_style='finetune',
        drop_path_rate=0.15,
        # Set with --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    # fpn1 = 2x (ConvT, BN, GELU, ConvT), fpn2 = ConvT, fpn3 = Identity,
    # fpn4 = MaxPool (docs/official.md §4): mmseg's Feature2Pyramid
    neck=dict(
        type='Feature2Pyramid',
        embed_dim=embed_dims,
        rescales=[4, 2, 1, 0.5],
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(
        in_channels=[embed_dims] * 4, channels=embed_dims, num_classes=150),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=150),
    # single-scale slide inference, crop 512, stride 341 (docs/official.md §4)
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# AdamW + layer decay; mmseg's constructor picks layer ids for backbones
# whose class name contains 'BEiT' (BEiTv2ViT does): embeddings 0,
# layers.i i+1, the rest num_layers+1; no decay for 1-D params and biases.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-5, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LayerDecayOptimizerConstructor',
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.75))

# warmup 1500 iterations from 1e-6, poly (power 1.0) to 0 over all 160k
# iterations (docs/official.md §4). The official mmcv LrUpdaterHook computes
# the poly value from iteration 0 and multiplies it by the warmup factor
# during warmup; two mmengine schedulers that overlap multiply the same
# way, so the poly starts at 0, not after the warmup. The floor is 0, so
# the per-group layer-decay scale is kept at every iteration.
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=1500),
    dict(
        type='PolyLR',
        power=1.0,
        begin=0,
        end=160000,
        eta_min=0.0,
        by_epoch=False)
]
# 8 GPUs x 2 images = 16 (docs/official.md §4); batch >= 2 per device (BN in
# PPM) mmseg batches lists of samples (test images differ in size);
# tools/train.py defaults to default_collate (mmpretrain's), so say it here.
train_dataloader = dict(
    batch_size=2, collate_fn=dict(type='pseudo_collate'))
val_dataloader = dict(batch_size=1, collate_fn=dict(type='pseudo_collate'))
test_dataloader = val_dataloader
