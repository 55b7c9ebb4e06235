# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The presets of ``tools/run_demo.py``: which config each stage runs, where
the data and outputs go, and the extra ``--cfg-options`` of the smoke run."""

STAGES = ('vqkd', 'codebook', 'pretrain', 'probe', 'probe_random',
          'probe_teacher', 'finetune')
_DEMO = dict(
    data='data/shapes10',
    work_dir='work_dirs/demo',
    vqkd='configs/demo/vqkd_demo_shapes10.py',
    pretrain='configs/demo/beitv2_demo_shapes10.py',
    probe='configs/demo/vit-4x128-p4_linear-probe_demo_shapes10.py',
    probe_teacher=None,
    finetune=None,
    extra={})
PRESETS = {
    'demo': _DEMO,
    'cifar': dict(
        data='data/cifar10',
        work_dir='work_dirs/cifar_benchmark',
        vqkd='configs/demo/vqkd_cifar10.py',
        pretrain='configs/demo/beitv2_cifar10.py',
        probe='configs/demo/vit-4x128-p4_linear-probe_cifar10.py',
        probe_teacher='configs/demo/effnet-lite0_linear-probe_cifar10.py',
        finetune='configs/demo/vit-4x128-p4_finetune_cifar10.py',
        extra={}),
    # Seconds-long smoke run of every stage (tests, CI): one epoch of
    # batch 8 on a shapes10 with 4 train / 2 val images per class.
    'tiny': dict(
        _DEMO,
        data=None,
        work_dir='work_dirs/demo_tiny',
        extra={
            # epoch-based stages
            'epochs': [
                'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            ],
            'pretrain': ['train_cfg.max_iters=4'],
            'train': [
                'train_dataloader.batch_size=8',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'default_hooks.logger.interval=1',
            ],
            'eval': [
                'val_dataloader.batch_size=8',
                'val_dataloader.num_workers=0',
                'val_dataloader.persistent_workers=False',
                'test_dataloader.batch_size=8',
                'test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False',
            ],
        }),
}
# shapes10 sizes: the demo's 2,000 / 500 images keep VQ-KD (whose
# EfficientNet-Lite0 teacher at 128 px is the slowest part) within budget.
DATA_SIZES = dict(
    demo=dict(num_train_per_class=200, num_val_per_class=50),
    tiny=dict(num_train_per_class=4, num_val_per_class=2))
