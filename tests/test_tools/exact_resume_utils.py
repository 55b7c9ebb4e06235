# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Tiny configs of every training stage and a check that a run resumed from
an iteration-level checkpoint ends where an uninterrupted run ends.

The interrupted run is the uninterrupted one itself: it saves a checkpoint
every iteration, and a second run resumes from ``iter_<k>.pth`` of it (what
a run stopped or preempted after iteration k leaves) to the same end.
Runs go through ``tools/train.py``'s ``main`` in this process."""
import os
import os.path as osp

import numpy as np
import torch
from PIL import Image
from tiny_run_utils import (PRETRAIN_RUN, REPO, VQKD_MODEL_AND_OPTIM,
                            make_image_folder)
from tool_loader import load_tool

BENCH = osp.join(REPO, 'configs', 'beitv2', 'benchmarks')

# Checkpoint after every iteration, kept; iteration-based log lines.
_HOOKS = '''
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False,
                    max_keep_ckpts=-1))
log_processor = dict(by_epoch=False)
'''

# VQ-KD, epoch-based, shuffled, random crops and flips, dead codes
# restarted from random encoder outputs: every random stream matters.
VQKD = VQKD_MODEL_AND_OPTIM.format(
    dead_code_threshold=2) + '''train_dataloader = dict(
    batch_size=2, num_workers=0,
    dataset=dict(type='UnlabeledImageFolder', data_root={data_root!r},
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='RandomResizedCrop', scale=32,
                                crop_ratio_range=(0.35, 1.0),
                                backend='pillow'),
                           dict(type='RandomFlip', prob=0.5),
                           dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=True))
train_cfg = dict(by_epoch=True, max_epochs={epochs})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=3, end={max_iters}),
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
''' + _HOOKS

# BEiT v2 pretraining: the repo's tiny CIFAR config (iteration-based,
# shuffled DefaultSampler, two-view crops, colour jitter, blockwise masks,
# diff_rank_seed=True, so its sampler seed is drawn at random).
PRETRAIN = PRETRAIN_RUN + _HOOKS

# Fine-tuning: the CIFAR recipe (RandAugment, random erasing, Mixup/CutMix,
# drop path, layer decay), epoch-based with a shuffled DefaultSampler.
FINETUNE = '''
_base_ = {base!r}
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data_root={data_root!r}, data_prefix=''))
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop',
                 max_epochs={epochs})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2),
    dict(type='LayerDecayCosineAnnealingLR', by_epoch=False, begin=2,
         end={max_iters}, eta_min=1e-6),
]
''' + _HOOKS

# Linear probe: frozen random backbone, BatchNorm + linear head, the
# InfiniteSampler of the iteration-based CIFAR runs.
LINEAR = '''
_base_ = {base!r}
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, data_prefix=''))
train_cfg = dict(max_iters={max_iters})
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end={max_iters},
         eta_min=0.)
]
''' + _HOOKS

# UperNet: the CamVid config at 32 px crops of 48x40 pictures, a 4-block
# width-32 ViT; random resize, crop, flip and photometric distortion.
UPERNET = '''
_base_ = {base!r}
crop_size = (32, 32)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=32, num_layers=4, num_heads=2,
                  feedforward_channels=64),
        img_size=32, out_indices=[0, 1, 2, 3]),
    neck=dict(embed_dim=32),
    decode_head=dict(in_channels=[32] * 4, channels=16),
    auxiliary_head=dict(in_channels=32, channels=8))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='RandomResize', scale=(48, 40), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=train_pipeline))
train_cfg = dict(max_iters={max_iters}, val_interval={max_iters})
param_scheduler = [dict(_base_.param_scheduler[0], end=2),
                   dict(_base_.param_scheduler[1], end={max_iters})]
''' + _HOOKS


def make_seg_folder(root: str, num: int = 4) -> str:
    """``num`` random 48x40 JPEGs with 11-class label maps (CamVid
    layout: images/train, annotations/train)."""
    rng = np.random.default_rng(0)
    for sub in ('images', 'annotations'):
        os.makedirs(osp.join(root, sub, 'train'), exist_ok=True)
    for i in range(num):
        pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(
            osp.join(root, 'images', 'train', f'{i}.jpg'))
        label = rng.integers(0, 11, (5, 6), dtype=np.uint8)
        label = np.kron(label, np.ones((8, 8), dtype=np.uint8))
        Image.fromarray(label).save(
            osp.join(root, 'annotations', 'train', f'{i}.png'))
    return root


def write_stage_config(tmp_dir: str, stage: str, iters: int,
                       epochs: int = 0, tokenizer: str = '') -> str:
    """Write the tiny config of ``stage`` (``vqkd``, ``pretrain``,
    ``finetune``, ``linear`` or ``upernet``) and its data under
    ``tmp_dir``."""
    tmp_dir = osp.abspath(tmp_dir)
    if stage == 'upernet':
        data_root = make_seg_folder(osp.join(tmp_dir, 'seg'))
    else:
        data_root = make_image_folder(osp.join(tmp_dir, 'images'))
    template, base = dict(
        vqkd=(VQKD, ''),
        pretrain=(PRETRAIN, osp.join(
            REPO, 'configs', 'beitv2',
            'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py')),
        finetune=(FINETUNE, osp.join(
            BENCH, 'vit-4x128-p4_beitv2-pre_1xb64-coslr-600it_cifar10-'
            '32px.py')),
        linear=(LINEAR, osp.join(
            BENCH, 'vit-4x128-p4_beitv2-pre_linear-1xb128-coslr-400it_'
            'cifar10-32px.py')),
        upernet=(UPERNET, osp.join(
            BENCH, 'upernet_vit-6x128-p8_beitv2-pre_1xb4-1k_camvid-'
            '128x128.py')))[stage]
    path = osp.join(tmp_dir, f'tiny_{stage}.py')
    with open(path, 'w') as f:
        f.write(
            template.format(
                base=base, data_root=data_root, max_iters=iters,
                epochs=epochs, tokenizer=tokenizer))
    return path


def train(config: str, work_dir: str, *extra: str) -> None:
    """``tools/train.py CONFIG --work-dir WORK_DIR EXTRA...`` in this
    process, without validation; one experiment name per work dir (mmengine
    shares loggers and message hubs by name)."""
    name = 'exact_resume_' + osp.basename(work_dir)
    load_tool('train.py').main([
        config, '--work-dir', work_dir, '--no-validate', *extra,
        '--cfg-options', f'experiment_name={name}'
    ])


def load(path: str) -> dict:
    from mmbeitv2.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path)


def differences(ckpt: dict, ref: dict, atol: float = 1e-6) -> list:
    """Names of the weights, buffers and optimizer states of ``ckpt`` that
    differ from ``ref`` by more than ``atol`` (or are missing)."""
    out = []
    for key, want in ref['state_dict'].items():
        got = ckpt['state_dict'].get(key)
        if got is None or not torch.allclose(
                got.double(), want.double(), rtol=0, atol=atol):
            out.append(key)
    for idx, want in ref['optimizer']['state'].items():
        for name, value in want.items():
            got = ckpt['optimizer']['state'].get(idx, {}).get(name)
            if not torch.is_tensor(value):
                value, got = torch.tensor(value), torch.tensor(got)
            if got is None or not torch.allclose(
                    got.double(), value.double(), rtol=0, atol=atol):
                out.append(f'optimizer.state.{idx}.{name}')
    return out


def resume_differences(tmp_dir: str, config: str, iters: int,
                       resume_at: int) -> tuple:
    """Train ``iters`` iterations uninterrupted, then resume from its
    ``iter_<resume_at>.pth`` to ``iters`` in another work dir.

    Returns:
        tuple: The differing names (see :func:`differences`), the resumed
        and the uninterrupted final checkpoint.
    """
    ref_dir = osp.join(tmp_dir, 'uninterrupted')
    train(config, ref_dir)
    res_dir = osp.join(tmp_dir, 'resumed')
    train(config, res_dir, '--resume',
          osp.join(ref_dir, f'iter_{resume_at}.pth'))
    ref = load(osp.join(ref_dir, f'iter_{iters}.pth'))
    final = load(osp.join(res_dir, f'iter_{iters}.pth'))
    assert not osp.exists(osp.join(res_dir, f'iter_{resume_at}.pth'))
    assert final['meta']['iter'] == ref['meta']['iter'] == iters
    return differences(final, ref), final, ref
