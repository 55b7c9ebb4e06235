# UperNet + BEiT v2 ViT on CamVid (11 classes, 255 = void): the whole
# segmentation path offline on real pictures, sized for a short CPU run
# (a 6-block width-128 ViT with patch 8, 128x128 crops of half-size images,
# 1k iterations). Layout of data_root (README.md):
#   images/{train,val,test}/*.jpg, annotations/{train,val,test}/*.png
# Another location: --cfg-options train_dataloader.dataset.data_root=DIR
#   val_dataloader.dataset.data_root=DIR test_dataloader.dataset.data_root=DIR
_base_ = './upernet_vit-base-p16_beitv2-1600e-pre_8xb2-160k_ade20k-512x512.py'

data_root = 'data/camvid'
crop_size = (128, 128)
img_scale = (240, 180)  # half of CamVid's 480x360
embed_dims = 128
num_classes = 11
metainfo = dict(
    classes=('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
             'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist'),
    palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
             [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
             [64, 0, 128], [64, 64, 0], [0, 128, 192]])

model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=6,
            num_heads=4,
            feedforward_channels=4 * embed_dims),
        img_size=crop_size[0],
        patch_size=8,
        out_indices=[1, 3, 4, 5],
        drop_path_rate=0.1,
        # random init unless --cfg-options model.backbone.init_cfg=...
        init_cfg=None),
    # patch 8: rescales [2, 1, 0.5, 0.25] give the strides 4/8/16/32 that [4,
    # 2, 1, 0.5] give for patch 16 (docs/official.md §4), at a quarter of the
    # cost
    neck=dict(embed_dim=embed_dims, rescales=[2, 1, 0.5, 0.25]),
    # channels D/2 (the paper's UPerHead uses D) to keep the CPU run short
    decode_head=dict(
        in_channels=[embed_dims] * 4,
        channels=embed_dims // 2,
        num_classes=num_classes),
    auxiliary_head=dict(
        in_channels=embed_dims, channels=32, num_classes=num_classes),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(85, 85)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='PackSegInputs')
]


def _split(name, pipeline):
    return dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root=data_root,
        metainfo=metainfo,
        data_prefix=dict(
            img_path=f'images/{name}', seg_map_path=f'annotations/{name}'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        pipeline=pipeline)


train_dataloader = dict(
    batch_size=4,  # >= 2: BatchNorm in the PPM (docs/stack_notes.md #8)
    num_workers=2,
    dataset=_split('train', train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2, dataset=_split('val', test_pipeline))
test_dataloader = dict(
    batch_size=1, num_workers=2, dataset=_split('test', test_pipeline))
del _split

# A from-scratch (or small-checkpoint) recipe: higher lr, milder decay.
optim_wrapper = dict(
    optimizer=dict(lr=3e-4),
    paramwise_cfg=dict(num_layers=6, layer_decay_rate=0.9))
max_iters = 1000
# the base's warmup and poly decay, over 50 and 1k iterations (the poly
# from iteration 0, as the base)
param_scheduler = [dict(_base_.param_scheduler[0], end=50),
                   dict(_base_.param_scheduler[1], end=max_iters)]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500,
        max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
