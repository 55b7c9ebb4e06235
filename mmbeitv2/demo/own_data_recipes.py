# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The recipes of ``tools/pretrain_own_data.py``: per ``--arch`` the shipped
configs each stage starts from, the default epochs, the warmup share and
whether the lr scales with the batch; per ``--teacher`` the VQ-KD config
whose teacher it is. :mod:`.own_data_configs` turns them into the stage
configs."""

PAPER_VQKD = ('configs/vqkd/vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-'
              '100e_in1k.py')
PAPER_PROBE = ('configs/beitv2/benchmarks/vit-base-p16_beitv2-1600e-pre_'
               'linear-per-layer-8xb128-coslr-100e_in1k.py')
MONITOR = 'configs/_base_/monitor/knn_cifar10_subset.py'
# DeiT-S / timm vit_small widths (mmpretrain's arch 'small' is another,
# older ViT-S: width 768, 8 blocks)
VIT_S = dict(embed_dims=384, num_layers=12, num_heads=6,
             feedforward_channels=1536)
TINY = dict(embed_dims=64, num_layers=2, num_heads=2, feedforward_channels=128)

_CPU = dict(
    vqkd='configs/demo/vqkd_demo_cifar10-subset.py',
    pretrain='configs/demo/beitv2_demo_cifar10-subset.py',
    probe='configs/demo/vit-4x128-p4_linear-probe_cifar10.py',
    epochs=(6, 6),
    # warmup share of the run: the demo's 30 of 468 VQ-KD and 60 of 1,000
    # pretraining iterations
    warmup=(0.064, 0.06),
    # the demo's lr were chosen for its batches (64, 32) on one process
    scale_lr=False,
    options={})
_PAPER = dict(
    vqkd=PAPER_VQKD,
    pretrain='configs/beitv2/beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py',
    probe=PAPER_PROBE,
    epochs=(100, 300),
    warmup=(10 / 100, 10 / 300),  # the paper's 10 warmup epochs
    scale_lr=True,
    options={})
# --arch -> configs and defaults. The paper trains one ViT-B/16 tokenizer
# for every student size, and so do vit-s / vit-b / vit-l.
ARCHS = {
    'cpu': _CPU,
    # _delete_: a dict replaces the base's arch name
    'vit-s': dict(_PAPER, options=dict(pretrain={
        'model.backbone.arch': dict(VIT_S, _delete_=True)})),
    'vit-b': _PAPER,
    'vit-l': dict(_PAPER, pretrain='configs/beitv2/beitv2_vit-large-p16_'
                  '64xb32-coslr-300e_in1k.py'),
    # a seconds-long smoke run of every stage (tests, CI): the cpu recipe
    # with a 2-block ViT, 64 codes, batch 2, one epoch each
    'tiny': dict(_CPU, epochs=(1, 1), options=dict(
        all={'train_dataloader.batch_size': 2,
             'train_dataloader.num_workers': 0,
             'train_dataloader.persistent_workers': False},
        vqkd={'model.encoder.arch': TINY,
              'model.decoder.arch': dict(TINY, num_layers=1),
              'model.quantizer.num_embed': 64},
        pretrain={'model.backbone.arch': TINY,
                  'model.neck.early_layers': 1},
    )),
}
# --teacher -> the paper-size VQ-KD config whose teacher it is (None: the
# offline EfficientNet-Lite0 of the PyPI wheel, 112 channels at stride 16)
TEACHERS = {
    'effnet-lite0': None,
    'clip-b16': PAPER_VQKD,
    'dinov2-b14': 'configs/vqkd/vqkd_vit-base-p16_3x768x12-dinov2-b14_'
    '8xb64-100e_in1k.py',
    'siglip-b16': 'configs/vqkd/vqkd_vit-base-p16_3x768x12-siglip-b16_'
    '8xb64-100e_in1k.py',
    'eva02-b16': 'configs/vqkd/vqkd_vit-base-p16_3x768x12-eva02-clip-b16_'
    '8xb64-100e_in1k.py',
}
EFFNET = dict(type='EfficientNetLite0Teacher')
EFFNET_DIMS = 112
MONITOR_IMAGES = 1000  # bank and query of the kNN monitor, at most each
MONITOR_POINTS = 5  # kNN measurements per pretraining run, about
