# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A tiny real training setup for tests of ``tools/train.py`` /
``tools/test.py``: generated PNGs in an ImageFolder and a 2-block BEiTv2ViT
classifier (embed 64, img 32, patch 8)."""
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
from typing import Optional

import numpy as np
from PIL import Image
from subprocess_utils import kill_group, popen

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Registers a hook that sleeps after every iteration and can pause the run
# for good after one iteration's checkpoint (start_train(pause_after=...)),
# so a test kills it at a known point. Lives in the test's tmp dir, not the
# package.
PAUSE_AFTER_ENV = 'TINY_RUN_PAUSE_AFTER'  # the iteration to pause after
PAUSED_ENV = 'TINY_RUN_PAUSED'  # the file the paused run creates
SLEEP_HOOK = textwrap.dedent('''
    import os
    import time
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class SleepHook(Hook):
        # After CheckpointHook (VERY_LOW): mmengine calls after_train_iter
        # in priority order, and CheckpointHook saves iter_<n>.pth and then
        # names it in last_checkpoint in its own after_train_iter.
        priority = 'LOWEST'

        def __init__(self, seconds=0.0):
            self.seconds = seconds
            self.pause_after = int(os.environ.get({pause!r}, 0))

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            time.sleep(self.seconds)
            # runner.iter is 0-based here (IterBasedTrainLoop counts the
            # iteration after the hooks); a resumed run starts past it.
            if runner.iter + 1 == self.pause_after:
                open(os.environ[{paused!r}], 'w').close()
                time.sleep(600)  # the test kills the run long before
                os._exit(3)
''').format(pause=PAUSE_AFTER_ENV, paused=PAUSED_ENV)

# The schedule, hooks and runtime both tiny configs share.
_SCHEDULE_AND_RUNTIME = '''param_scheduler = [
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
''' + _SCHEDULE_AND_RUNTIME


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
    return _write_config(path, CONFIG, data_root, max_iters, sleep)


def _write_config(path: str, template: str, data_root: str, max_iters: int,
                  sleep: float, **fields) -> str:
    """Fill a config template (warm-up of 3 iterations, then cosine)."""
    with open(path, 'w') as f:
        f.write(
            template.format(
                data_root=data_root, max_iters=max_iters,
                cos_iters=max_iters - 3, sleep=sleep, **fields))
    return path


def tool_env(tmp_dir: str) -> dict:
    """Environment for a tool subprocess: repo and tmp dir importable."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO, tmp_dir, env.get('PYTHONPATH', '')])
    env.pop('MMBEITV2_TRUST_CHECKPOINTS', None)
    env.pop(PAUSE_AFTER_ENV, None)
    # One intra-op thread per process (what torchrun sets): the tiny model
    # gains nothing from more, and on a busy 2-core machine extra threads
    # made an iteration 20x slower here.
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


def start_train(tmp_dir: str,
                config: str,
                work_dir: str,
                *extra: str,
                pause_after: Optional[int] = None) -> subprocess.Popen:
    """Start ``tools/train.py`` in a subprocess (in a process group of its
    own); stdout+stderr go to the file ``proc.log_path``.

    Args:
        tmp_dir (str): The run's folder (its cwd, importable).
        config (str): The config (one of this module's, with SleepHook).
        work_dir (str): ``--work-dir``.
        *extra (str): More ``tools/train.py`` arguments.
        pause_after (int, optional): Pause the run for good right after
            iteration ``pause_after``'s checkpoint (for
            :func:`kill_after_checkpoint`). Defaults to None (no pause).
    """
    log_path = osp.join(tmp_dir, f'train_{len(os.listdir(tmp_dir))}.log')
    env = tool_env(tmp_dir)
    paused = log_path[:-len('.log')] + '.paused'
    if pause_after is not None:
        env[PAUSE_AFTER_ENV] = str(pause_after)
        env[PAUSED_ENV] = paused
    with open(log_path, 'w') as log:
        proc = popen(
            [sys.executable,
             osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
             work_dir, *extra],
            cwd=tmp_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path
    proc.pause_after = pause_after
    proc.paused_path = paused
    return proc


# VQ-KD at tiny sizes: 32 px, patch 8 -> a 4x4 code map; a random
# EfficientNet-Lite0 teacher at 64 px (no download). The model and
# optimizer of every tiny VQ-KD config (also exact_resume_utils.py's).
VQKD_MODEL_AND_OPTIM = '''
default_scope = 'mmbeitv2'
tiny = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
model = dict(
    type='VQKDTokenizer',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0.] * 3,
                           std=[255.] * 3, to_rgb=True),
    encoder=dict(arch=tiny, img_size=32, patch_size=8),
    decoder=dict(arch=dict(tiny, num_layers=1), img_size=4, patch_size=1,
                 in_channels=8),
    quantizer=dict(num_embed=16, embed_dims=8,
                   dead_code_threshold={dead_code_threshold}),
    decoder_out_dims=112,
    teacher=dict(type='EfficientNetLite0Teacher', input_size=64,
                 pretrained=False))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.99),
                   weight_decay=1e-4))
'''
# The images are read as one's own unlabelled folder (UnlabeledImageFolder,
# nested class folders).
VQKD_CONFIG = VQKD_MODEL_AND_OPTIM + '''train_dataloader = dict(
    batch_size=2, num_workers=0,
    dataset=dict(type='UnlabeledImageFolder', data_root={data_root!r},
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False))
train_cfg = dict(by_epoch=False, max_iters={max_iters})
''' + _SCHEDULE_AND_RUNTIME

# BEiT v2 pretraining: the repo's tiny CIFAR config on the test images, a
# 3-iteration warmup, then cosine (also exact_resume_utils.py's).
PRETRAIN_RUN = '''
_base_ = {base!r}
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, data_prefix=''))
train_cfg = dict(max_iters={max_iters})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=3,
         end={max_iters}),
]
model = dict(target_generator=dict(init_cfg=dict(checkpoint={tokenizer!r})))
'''
# The same, checkpointing every iteration, with the sleep hook.
PRETRAIN_CONFIG = PRETRAIN_RUN + '''default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts=-1))
custom_hooks = [dict(type='SleepHook', seconds={sleep})]
custom_imports = dict(imports=['sleep_hook'], allow_failed_imports=False)
randomness = dict(seed=0)
'''


def _write_sleep_hook(tmp_dir: str) -> None:
    with open(osp.join(tmp_dir, 'sleep_hook.py'), 'w') as f:
        f.write(SLEEP_HOOK)


def write_vqkd_config(tmp_dir: str,
                      max_iters: int = 6,
                      sleep: float = 0.0,
                      dead_code_threshold: int = 100,
                      name: str = 'tiny_vqkd.py') -> str:
    """Write the tiny VQ-KD config, its images and the sleep hook."""
    tmp_dir = osp.abspath(tmp_dir)
    data_root = osp.join(tmp_dir, 'images')
    if not osp.isdir(data_root):
        make_image_folder(data_root)
    _write_sleep_hook(tmp_dir)
    path = osp.join(tmp_dir, name)
    return _write_config(path, VQKD_CONFIG, data_root, max_iters, sleep,
                         dead_code_threshold=dead_code_threshold)


def write_pretrain_config(tmp_dir: str,
                          tokenizer: str,
                          max_iters: int = 6,
                          sleep: float = 0.0) -> str:
    """Write a tiny BEiT v2 pretraining config (the repo's CIFAR one)."""
    tmp_dir = osp.abspath(tmp_dir)
    data_root = osp.join(tmp_dir, 'images')
    if not osp.isdir(data_root):
        make_image_folder(data_root)
    _write_sleep_hook(tmp_dir)
    path = osp.join(tmp_dir, 'tiny_pretrain.py')
    base = osp.join(REPO, 'configs', 'beitv2',
                    'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py')
    with open(path, 'w') as f:
        f.write(
            PRETRAIN_CONFIG.format(
                base=base,
                data_root=data_root,
                max_iters=max_iters,
                tokenizer=tokenizer,
                sleep=sleep))
    return path


def random_tokenizer_file(tmp_dir: str) -> str:
    """A random tokenizer of the tiny pretraining config (the official
    layout, converted), saved as ``tokenizer.pth`` in ``tmp_dir``."""
    import torch
    from mmengine.config import Config
    from paper_run_utils import official_tokenizer_state

    from mmbeitv2.checkpoint import convert_vqkd
    base = osp.join(REPO, 'configs', 'beitv2',
                    'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py')
    official = official_tokenizer_state(
        Config.fromfile(base).model.target_generator.to_dict())
    path = osp.join(tmp_dir, 'tokenizer.pth')
    torch.save(dict(state_dict=convert_vqkd(official)[0]), path)
    return path


def load_checkpoint(path: str) -> dict:
    """A checkpoint the tools wrote, through the project's one reader."""
    from mmbeitv2.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path)


def latest_checkpoint(work_dir: str) -> str:
    """What ``WORK_DIR/last_checkpoint`` names ('' before the first)."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return ''
    with open(pointer) as f:
        return f.read().strip()


def _log_tail(proc: subprocess.Popen) -> str:
    with open(proc.log_path) as f:
        return f.read()[-3000:]


def kill_after_checkpoint(proc: subprocess.Popen,
                          work_dir: str,
                          it: int,
                          timeout: float = 180) -> int:
    """SIGKILL ``proc`` (its whole process group) while it is paused right
    after iteration ``it``'s checkpoint; returns ``it``.

    ``proc`` must come from ``start_train(..., pause_after=it)``: the run
    itself stops at that point and waits to be killed, so the kill point
    does not depend on how fast this process polls (on a loaded machine a
    poller can miss a window between two checkpoints). The process is
    killed whatever happens (an assert here, a timeout).
    """
    import time
    assert getattr(proc, 'pause_after', None) == it, (
        f'start the run with start_train(..., pause_after={it})')
    deadline = time.monotonic() + timeout
    try:
        while not osp.exists(proc.paused_path):
            assert proc.poll() is None, (
                'training ended before it was killed:\n' + _log_tail(proc))
            assert time.monotonic() < deadline, (
                f'the run did not reach iteration {it} in {timeout} s:\n' +
                _log_tail(proc))
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            kill_group(proc)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert latest_checkpoint(work_dir) == osp.join(work_dir, f'iter_{it}.pth')
    return it


def wait_or_kill(proc: subprocess.Popen, timeout: float = 180) -> int:
    """Wait for ``proc``; kill its process group if it runs past
    ``timeout`` (or the wait is interrupted), so no training run outlives
    its test."""
    try:
        return proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            kill_group(proc)
            proc.wait(timeout=30)
