# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/train.py`` told to stop (SIGUSR1, as ``sbatch --signal``) in the
middle of an epoch: it saves that iteration and exits with the status
``tools/slurm_train.sh`` requeues on; ``--resume`` continues to the end."""
import os.path as osp
import signal

import pytest
import torch
from fault_hook_utils import write_derived_config, write_fault_hooks
from tiny_run_utils import (latest_checkpoint, start_train, wait_or_kill,
                            write_config)

from mmbeitv2.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE

SIGNAL_AT = 3  # of 4 iterations per epoch (8 images, batch 2), 2 epochs


def _load(path: str) -> dict:
    from mmbeitv2.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path)


def _log(proc) -> str:
    with open(proc.log_path) as f:
        return f.read()


@pytest.mark.integration
def test_sigusr1_mid_epoch_saves_exits_for_requeue_then_resumes(tmp_path):
    tmp = str(tmp_path)
    base = write_config(tmp, max_iters=8)
    write_fault_hooks(tmp)
    config = write_derived_config(
        tmp, 'preempted.py', base, f'''
        train_dataloader = dict(
            batch_size=2,
            sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
        train_cfg = dict(_delete_=True, by_epoch=True, max_epochs=2)
        default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1))
        log_processor = dict(by_epoch=True)
        custom_hooks = [
            dict(type='SignalAtIterHook', iteration={SIGNAL_AT},
                 signal='SIGUSR1')]
        ''')
    work_dir = osp.join(tmp, 'work')

    proc = start_train(tmp, config, work_dir)
    assert wait_or_kill(proc, timeout=120) == PREEMPTED_EXIT_CODE, _log(proc)
    saved = osp.join(work_dir, f'iter_{SIGNAL_AT}.pth')
    assert (f'SIGUSR1 received: saved {saved} after iteration {SIGNAL_AT}; '
            f'exiting with status {PREEMPTED_EXIT_CODE}') in _log(proc)
    assert latest_checkpoint(work_dir) == saved
    ckpt = _load(saved)
    # Mid-epoch: iteration 3 done, epoch 0 (of 4 iterations) not finished.
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (0, SIGNAL_AT)
    assert {int(s['step'])
            for s in ckpt['optimizer']['state'].values()} == {SIGNAL_AT}
    assert not osp.exists(osp.join(work_dir, 'epoch_1.pth'))

    proc = start_train(tmp, config, work_dir, '--resume')
    assert wait_or_kill(proc, timeout=120) == 0, _log(proc)
    assert f'Auto resumed from the latest checkpoint {saved}' in _log(proc)
    final = _load(osp.join(work_dir, 'epoch_2.pth'))
    assert final['meta']['epoch'] == 2
    # The optimizer went on from the saved state: one AdamW step per
    # iteration of both runs.
    steps = {int(s['step']) for s in final['optimizer']['state'].values()}
    assert steps == {final['meta']['iter']} and final['meta']['iter'] > 4
    assert all(v.isfinite().all() for v in final['state_dict'].values())


def test_hook_saves_and_exits_in_process(tmp_path):
    """The hook itself, on the toy runner: the flag set by a real signal is
    acted on after the iteration, and the handlers are given back."""
    import sys
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)),
                                'test_engine'))
    try:
        from toy_runner import toy_runner
    finally:
        sys.path.pop(0)
    from mmengine.hooks import Hook

    class SendAt2(Hook):
        priority = 'HIGHEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter + 1 == 2:
                signal.raise_signal(signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    work_dir = str(tmp_path)
    runner = toy_runner(
        work_dir,
        max_iters=5,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=100),
            checkpoint=dict(type='CheckpointHook', interval=100,
                            by_epoch=False)),
        custom_hooks=[SendAt2(), dict(type='PreemptionHook')])
    with pytest.raises(SystemExit) as exc:
        runner.train()
    assert exc.value.code == PREEMPTED_EXIT_CODE == 75
    assert signal.getsignal(signal.SIGTERM) is before
    assert latest_checkpoint(work_dir) == osp.join(work_dir, 'iter_2.pth')
    ckpt = _load(osp.join(work_dir, 'iter_2.pth'))
    assert ckpt['meta']['iter'] == 2
    model = runner.model.linear
    assert torch.equal(ckpt['state_dict']['linear.weight'], model.weight)
