# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The collapse alarms of ``CodebookUsageHook`` on a real tiny VQ-KD run
(mmengine Runner, the tests' tiny VQKDTokenizer with its real
NormEMAVectorQuantizer, k-means init on the first batch)."""
import copy
import os.path as osp
import shutil
import tempfile
import uuid
from unittest import TestCase

import torch
from mmengine.hooks import Hook
from torch.utils.data import Dataset

from tiny_models import vit_arch, vqkd_cfg
from mmbeitv2.engine.hooks import CodebookUsageHook
from mmbeitv2.errors import ConfigValueError

K = 16
# 32 px, patch 8: 16 tokens per image; batch 4 -> 64 tokens, 4 K, so every
# iteration is a full window.
CFG = vqkd_cfg(
    vit_arch(64, 2, feedforward_channels=128), num_embed=K,
    decoder_out_dims=112,
    teacher=dict(
        type='EfficientNetLite0Teacher', input_size=64, pretrained=False))
COLLAPSING = 'the VQ-KD codebook is collapsing'


class RandomImages(Dataset):
    """[0, 1] RGB noise images, a different one per index."""

    metainfo: dict = dict()

    def __len__(self) -> int:
        return 64

    def __getitem__(self, idx: int) -> dict:
        g = torch.Generator().manual_seed(idx)
        return dict(inputs=torch.rand(3, 32, 32, generator=g))


class CodebookSurgery(Hook):
    """Before the given iterations: collapse the codebook (every code a
    copy of code 0, so argmin picks code 0 for every token and all the
    other codes are dead), or restore it."""

    def __init__(self, collapse_at=(), restore_at=()) -> None:
        self.collapse_at = collapse_at
        self.restore_at = restore_at
        self.saved = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        weight = runner.model.quantize.embedding.weight
        if runner.iter in self.collapse_at:
            self.saved = weight.clone()
            weight.copy_(weight[:1].expand_as(weight))
        if runner.iter in self.restore_at:
            weight.copy_(self.saved)


def _train(max_iters: int, surgery: Hook) -> str:
    """Train the tiny VQ-KD with the alarm checking every iteration;
    return the log."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(copy.deepcopy(CFG))
    work_dir = tempfile.mkdtemp()
    try:
        runner = Runner(
            model=model,
            work_dir=work_dir,
            train_dataloader=dict(
                dataset=RandomImages(),
                sampler=dict(type='InfiniteSampler', shuffle=False),
                batch_size=4,
                num_workers=0,
                collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-4)),
            train_cfg=dict(by_epoch=False, max_iters=max_iters),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=100),
                checkpoint=None),
            custom_hooks=[CodebookUsageHook(interval=1), surgery],
            default_scope='mmbeitv2',
            experiment_name=f'alarm_{uuid.uuid4().hex}')
        runner.train()
        with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
            return f.read()
    finally:
        shutil.rmtree(work_dir)


class TestCodebookUsageAlarm(TestCase):

    def test_arguments_are_checked(self):
        with self.assertRaisesRegex(ConfigValueError, 'interval=0'):
            CodebookUsageHook(interval=0)
        with self.assertRaisesRegex(ConfigValueError, r'min_usage=1\.5'):
            CodebookUsageHook(min_usage=1.5)

    def test_silent_on_a_healthy_run(self):
        log = _train(4, CodebookSurgery())
        self.assertIn('k-means initialised 16 codes', log)
        self.assertNotIn(COLLAPSING, log)
        self.assertNotIn('WARNING', log)

    def test_warns_once_per_collapse_and_again_after_recovery(self):
        # Iterations 0-1 healthy (k-means init at 0), 2-3 collapsed, 4-5
        # healthy, 6 collapsed; the log counts them from 1 (3-4, 5-6, 7).
        log = _train(7, CodebookSurgery(collapse_at=(2, 6),
                                        restore_at=(4, )))
        warnings = [line for line in log.splitlines() if COLLAPSING in line]
        self.assertEqual(len(warnings), 2, log)
        self.assertIn('iterations 3-3', warnings[0])
        self.assertIn('iterations 7-7', warnings[1])
        for line in warnings:
            self.assertIn('WARNING', line)
            self.assertIn('(1/16 codes hit) < min_usage 50%', line)
            self.assertIn('perplexity 1.0 < min_perplexity 0.1 x K = 1.6',
                          line)
            self.assertIn('dead codes', line)
            # the causes and fixes, restart first as it is off here
            self.assertIn(
                'Likely causes and fixes: no dead-code restart: set '
                'model.quantizer.dead_code_threshold', line)
            self.assertIn('a smaller K (model.quantizer.num_embed)', line)
            self.assertIn("check the teacher's input normalisation", line)
            self.assertIn('a too-high lr', line)
        # Iteration 4 of the log is collapsed still, though the EMA moved
        # code 0 off its copies (2 codes used, perplexity ~2 > 1.6): a
        # condition that clears while others hold is no recovery.
        recovered = [line for line in log.splitlines()
                     if 'codebook recovered' in line]
        self.assertEqual(len(recovered), 1, log)
        self.assertIn('recovered (iterations 5-5)', recovered[0])
        self.assertIn('dead codes, perplexity, usage within limits again',
                      recovered[0])
