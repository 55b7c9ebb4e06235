# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The presets of ``tools/run_demo.py``: which config each stage runs, where
the data and outputs go, and the extra ``--cfg-options`` of the smoke run.

A stage whose config is None is not part of the preset. ``data`` names the
default data: ``'embedded'`` (the CIFAR-10 subset shipped in the package,
unpacked under the work dir), ``'shapes10'`` (generated under the work dir)
or a folder."""

STAGES = ('vqkd', 'codebook', 'pretrain', 'probe', 'probe_random',
          'probe_teacher', 'mae', 'probe_mae', 'finetune')
# probe stage -> the stage whose checkpoint it probes (None: no checkpoint)
PROBES = dict(probe='pretrain', probe_random=None, probe_teacher=None,
              probe_mae='mae')
# The feature probe (tools/analysis_tools/feature_probe.py) reads the
# backbone, the data and the test pipeline of these configs.
VIT_PROBE = 'configs/demo/vit-4x128-p4_linear-probe_cifar10.py'
TEACHER_PROBE = 'configs/demo/effnet-lite0_linear-probe_cifar10.py'

_DEMO = dict(
    data='embedded',
    work_dir='work_dirs/demo',
    vqkd='configs/demo/vqkd_demo_cifar10-subset.py',
    pretrain='configs/demo/beitv2_demo_cifar10-subset.py',
    probe=VIT_PROBE,
    probe_random=VIT_PROBE,
    probe_teacher=TEACHER_PROBE,
    # The pixel-target baseline at the same student budget (mmpretrain's
    # MAE, the same ViT): the comparison BEiT v2 exists for (paper §4.2).
    # --no-mae skips it.
    mae='configs/demo/mae_demo_cifar10-subset.py',
    probe_mae='configs/demo/vit-4x128-p4_mae-pre_linear-probe_cifar10.py',
    finetune=None,
    extra={})


def _every(step: int, total: int) -> str:
    """``[0,step,2*step,...]`` below ``total``: one image of every class of
    the class-sorted embedded splits when ``step`` = images per class."""
    return '[' + ','.join(str(i) for i in range(0, total, step)) + ']'


PRESETS = {
    # the default: real photos, ~10 min on 2 CPU cores (docs/demo.md)
    'demo': _DEMO,
    'shapes10': dict(
        _DEMO,
        data='shapes10',
        work_dir='work_dirs/demo_shapes10',
        vqkd='configs/demo/vqkd_demo_shapes10.py',
        pretrain='configs/demo/beitv2_demo_shapes10.py'),
    'cifar': dict(
        data='data/cifar10',
        work_dir='work_dirs/cifar_benchmark',
        vqkd='configs/demo/vqkd_cifar10.py',
        pretrain='configs/demo/beitv2_cifar10.py',
        probe=VIT_PROBE,
        probe_random=VIT_PROBE,
        probe_teacher=TEACHER_PROBE,
        mae='configs/demo/mae_vit-4x128-p4_cifar10.py',
        probe_mae='configs/demo/vit-4x128-p4_mae-pre_linear-probe_cifar10.py',
        finetune='configs/demo/vit-4x128-p4_finetune_cifar10.py',
        extra={}),
    # Seconds-long smoke run of every demo stage (tests, CI): 2 train /
    # 1 test images per class of the embedded subset, batch 8.
    'tiny': dict(
        _DEMO,
        work_dir='work_dirs/demo_tiny',
        extra={
            'epochs': [
                'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            ],
            'pretrain': ['train_cfg.max_iters=2'],
            'mae': ['train_cfg.max_iters=2'],
            'train': [
                'train_dataloader.batch_size=8',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'default_hooks.logger.interval=1',
                f'train_dataloader.dataset.indices={_every(250, 5000)}',
            ],
            'eval': [
                'val_dataloader.batch_size=8',
                'val_dataloader.num_workers=0',
                'val_dataloader.persistent_workers=False',
                'test_dataloader.batch_size=8',
                'test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False',
                f'val_dataloader.dataset.indices={_every(100, 1000)}',
                f'test_dataloader.dataset.indices={_every(100, 1000)}',
            ],
        }),
}
# shapes10 sizes (the generated data of the shapes10 preset)
DATA_SIZES = dict(
    shapes10=dict(num_train_per_class=200, num_val_per_class=50))
