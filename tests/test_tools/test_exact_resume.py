# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A run resumed from an iteration-level checkpoint ends with the weights,
buffers (codebook, BatchNorm statistics) and optimizer state of an
uninterrupted run, for every training stage (ExactResumeHook and the
exact-resume loops, added by the tools). Each stage draws random numbers
after the resume point (shuffling, crops, masks, Mixup, drop path, dead
codes), so a resumed run that replayed the wrong data or random states
would end elsewhere."""
import os.path as osp

import pytest
import torch
from exact_resume_utils import REPO, resume_differences, write_stage_config

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _one_thread():
    # One intra-op thread, as tiny_run_utils.tool_env gives subprocesses:
    # on the busy 2-core machine more made these runs 4x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _check(tmp_path, stage: str, iters: int, resume_at: int,
           epochs: int = 0, tokenizer: str = '') -> tuple:
    tmp = str(tmp_path)
    config = write_stage_config(tmp, stage, iters, epochs, tokenizer)
    diff, final, ref = resume_differences(tmp, config, iters, resume_at)
    assert diff == [], f'{len(diff)} differ, e.g. {diff[:5]}'
    return final, ref


def test_vqkd_epoch_based_mid_epoch(tmp_path):
    """2 epochs of 4 batches, resumed after batch 1 of epoch 2: the
    epoch's remaining batches, crops, flips and dead-code restarts."""
    final, ref = _check(tmp_path, 'vqkd', iters=8, resume_at=5, epochs=2)
    assert final['meta']['epoch'] == ref['meta']['epoch'] == 1
    for key in ('quantize.embedding.weight', 'quantize.cluster_size',
                'quantize.steps_unused'):
        assert key in ref['state_dict'], key


def test_beitv2_pretraining(tmp_path):
    """Iteration-based, resumed mid-epoch; the frozen tokenizer is a
    random one in the official layout."""
    from mmengine.config import Config
    from paper_run_utils import official_tokenizer_state

    from mmbeitv2.checkpoint import convert_vqkd
    base = osp.join(REPO, 'configs', 'beitv2',
                    'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py')
    state = official_tokenizer_state(
        Config.fromfile(base).model.target_generator.to_dict())
    tokenizer = str(tmp_path / 'tokenizer.pth')
    torch.save(dict(state_dict=convert_vqkd(state)[0]), tokenizer)
    _check(tmp_path, 'pretrain', iters=7, resume_at=3, tokenizer=tokenizer)


def test_finetune_epoch_based_mid_epoch(tmp_path):
    """RandAugment, random erasing, Mixup/CutMix and drop path, resumed
    after batch 2 of epoch 2."""
    _check(tmp_path, 'finetune', iters=8, resume_at=6, epochs=2)


def test_linear_probe(tmp_path):
    """InfiniteSampler; the head's BatchNorm statistics continue too."""
    final, _ = _check(tmp_path, 'linear', iters=6, resume_at=3)
    assert any('running_mean' in key for key in final['state_dict'])


def test_upernet_segmentation(tmp_path):
    """mmseg's UperNet with random resize, crop, flip, photometric
    distortion and drop path."""
    pytest.importorskip('mmseg')
    _check(tmp_path, 'upernet', iters=6, resume_at=3)
