# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every training stage survives SIGKILL + ``--resume``: VQ-KD (k-means not
redone, codebook EMA and dead-code counters carried over) and BEiT v2
pretraining (iteration, optimizer and schedulers carried over)."""
import os.path as osp

import pytest
import torch
from tiny_run_utils import (kill_after_checkpoint, random_tokenizer_file,
                            start_train, wait_or_kill, write_pretrain_config,
                            write_vqkd_config)

MAX_ITERS = 6
KILL_AFTER = 2

pytestmark = pytest.mark.integration


def _load(path: str) -> dict:
    from mmbeitv2.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path)


def _run_to_end(tmp: str, config: str, work_dir: str, *extra: str) -> str:
    proc = start_train(tmp, config, work_dir, *extra)
    code = wait_or_kill(proc, timeout=300)
    with open(proc.log_path) as f:
        log = f.read()
    assert code == 0, log[-3000:]
    return log


def _kill_then_resume(tmp: str, config: str, *resume_args: str) -> tuple:
    """Run, SIGKILL after iteration KILL_AFTER, resume to the end."""
    work_dir = osp.join(tmp, 'work')
    proc = start_train(tmp, config, work_dir, pause_after=KILL_AFTER)
    killed_at = kill_after_checkpoint(proc, work_dir, KILL_AFTER)
    assert killed_at == KILL_AFTER
    assert not osp.exists(osp.join(work_dir, f'iter_{KILL_AFTER + 1}.pth'))
    log = _run_to_end(tmp, config, work_dir, '--resume', *resume_args)
    assert ('Auto resumed from the latest checkpoint ' +
            osp.join(work_dir, f'iter_{killed_at}.pth')) in log
    return work_dir, killed_at, log


def test_vqkd_resume_equals_uninterrupted_run(tmp_path):
    """Killed and resumed, VQ-KD ends bit-for-bit where an uninterrupted
    run ends: same encoder/decoder weights, codebook, EMA cluster sizes and
    dead-code counters (nothing after the first step draws random
    numbers; the data order is fixed)."""
    tmp = str(tmp_path)
    config = write_vqkd_config(tmp, MAX_ITERS)
    work_dir, killed_at, log = _kill_then_resume(tmp, config)
    # k-means ran once, in the first run, never after the resume.
    assert 'k-means initialised' not in log
    first = _load(osp.join(work_dir, f'iter_{killed_at}.pth'))['state_dict']
    assert first['quantize.embedding.initted'].item() == 1
    # Some codes were idle at the kill: the counters matter.
    assert first['quantize.steps_unused'].any()

    ref_config = write_vqkd_config(tmp, MAX_ITERS, name='tiny_vqkd_ref.py')
    ref_dir = osp.join(tmp, 'reference')
    _run_to_end(tmp, ref_config, ref_dir)
    final = _load(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    ref = _load(osp.join(ref_dir, f'iter_{MAX_ITERS}.pth'))
    assert final['meta']['iter'] == ref['meta']['iter'] == MAX_ITERS
    for key, value in ref['state_dict'].items():
        if key.startswith('teacher'):
            continue
        torch.testing.assert_close(
            final['state_dict'][key], value, rtol=0, atol=1e-6, msg=key)
    for key in ('quantize.steps_unused', 'quantize.cluster_size',
                'quantize.embedding.weight'):
        assert key in ref['state_dict'], key
    steps = {int(s['step']) for s in final['optimizer']['state'].values()}
    assert steps == {MAX_ITERS}


def _uninterrupted_lr(base_lr: float, steps: int) -> float:
    """The lr of the tiny pretraining config's schedulers after ``steps``
    uninterrupted iterations."""
    from mmengine.optim import CosineAnnealingLR, LinearLR
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=base_lr)
    schedulers = [
        LinearLR(optimizer, start_factor=0.1, by_epoch=False, begin=0, end=3),
        CosineAnnealingLR(
            optimizer, eta_min=1e-5, by_epoch=False, begin=3, end=steps)
    ]
    for _ in range(steps):
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return optimizer.param_groups[0]['lr']


def test_beitv2_pretraining_resume(tmp_path):
    """Pretraining (tiny CIFAR config, random tokenizer file): the resumed
    run (with ``--amp --amp-cpu-bf16``) continues the iteration count,
    AdamW state and lr schedule."""
    tmp = str(tmp_path)
    tokenizer = random_tokenizer_file(tmp)
    config = write_pretrain_config(tmp, tokenizer, MAX_ITERS)
    # The resumed run also takes the CPU bf16 autocast path of --amp.
    work_dir, killed_at, log = _kill_then_resume(tmp, config, '--amp',
                                                 '--amp-cpu-bf16')
    assert 'bf16 autocast on CPU (--amp-cpu-bf16 given; ' \
        'CPUAutocastOptimWrapper' in log
    before = _load(osp.join(work_dir, f'iter_{killed_at}.pth'))
    final = _load(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    assert final['meta']['iter'] == MAX_ITERS
    assert final['message_hub']['runtime_info']['iter'] == MAX_ITERS - 1

    def steps(ckpt):
        return {int(s['step']) for s in ckpt['optimizer']['state'].values()}

    assert steps(before) == {killed_at} and steps(final) == {MAX_ITERS}
    for sched in final['param_schedulers']:
        assert sched['_global_step'] == MAX_ITERS
    # lr where an uninterrupted schedule ends
    group = final['optimizer']['param_groups'][0]
    assert group['lr'] == pytest.approx(
        _uninterrupted_lr(group['initial_lr'], MAX_ITERS), rel=1e-9)
    # The frozen tokenizer is the file's, in both runs.
    tokenizer_state = _load(tokenizer)['state_dict']
    for key, value in tokenizer_state.items():
        assert torch.equal(
            final['state_dict']['target_generator.' + key], value), key
