# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A tiny real training setup for tests of ``tools/train.py`` /
``tools/test.py``: generated PNGs in an ImageFolder and a 2-block BEiTv2ViT
classifier (embed 64, img 32, patch 8)."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Registers a hook that sleeps after every iteration, so a test can kill the
# run between two checkpoints. Lives in the test's tmp dir, not the package.
SLEEP_HOOK = textwrap.dedent('''
    import time
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class SleepHook(Hook):
        def __init__(self, seconds=0.0):
            self.seconds = seconds

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            time.sleep(self.seconds)
''')

CONFIG = '''
default_scope = 'mmbeitv2'
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='BEiTv2ViT',
        arch=dict(embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=32, patch_size=8, out_type='avg_featmap',
        use_shared_rel_pos_bias=False, use_rel_pos_bias=True,
        init_style='finetune'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
data_preprocessor = dict(
    num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(type='CustomDataset', data_root={data_root!r},
                 pipeline=pipeline),
    sampler=dict(type='InfiniteSampler', shuffle=True))
test_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(type='CustomDataset', data_root={data_root!r},
                 pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
train_cfg = dict(by_epoch=False, max_iters={max_iters})
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=3,
         end={max_iters}, T_max={cos_iters}),
]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
    sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = [dict(type='SleepHook', seconds={sleep})]
custom_imports = dict(imports=['sleep_hook'], allow_failed_imports=False)
env_cfg = dict(cudnn_benchmark=False,
               mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='gloo'))
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
'''


def make_image_folder(root: str, per_class: int = 4, size: int = 32) -> str:
    """Write ``per_class`` random PNGs for two classes under ``root``."""
    rng = np.random.default_rng(0)
    for cls in ('a', 'b'):
        os.makedirs(osp.join(root, cls), exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(osp.join(root, cls, f'{i}.png'))
    return root


def write_config(tmp_dir: str,
                 max_iters: int = 6,
                 sleep: float = 0.0) -> str:
    """Write the tiny config, its image folder and the sleep hook module."""
    tmp_dir = osp.abspath(tmp_dir)
    data_root = make_image_folder(osp.join(tmp_dir, 'images'))
    with open(osp.join(tmp_dir, 'sleep_hook.py'), 'w') as f:
        f.write(SLEEP_HOOK)
    path = osp.join(tmp_dir, 'tiny_cls.py')
    with open(path, 'w') as f:
        f.write(
            CONFIG.format(
                data_root=data_root,
                max_iters=max_iters,
                cos_iters=max_iters - 3,
                sleep=sleep))
    return path


def tool_env(tmp_dir: str) -> dict:
    """Environment for a tool subprocess: repo and tmp dir importable."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO, tmp_dir, env.get('PYTHONPATH', '')])
    env.pop('MMBEITV2_TRUST_CHECKPOINTS', None)
    # One intra-op thread per process (what torchrun sets): the tiny model
    # gains nothing from more, and on a busy 2-core machine extra threads
    # made an iteration 20x slower here.
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


def start_train(tmp_dir: str, config: str, work_dir: str,
                *extra: str) -> subprocess.Popen:
    """Start ``tools/train.py`` in a subprocess; stdout+stderr go to the
    file ``proc.log_path``."""
    log_path = osp.join(tmp_dir, f'train_{len(os.listdir(tmp_dir))}.log')
    log = open(log_path, 'w')
    proc = subprocess.Popen(
        [sys.executable,
         osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir,
         *extra],
        cwd=tmp_dir,
        env=tool_env(tmp_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL)
    proc.log_path = log_path
    return proc
