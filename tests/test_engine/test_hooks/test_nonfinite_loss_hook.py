# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os.path as osp
import sys
from unittest.mock import MagicMock

import pytest
import torch

from mmengine.logging import MessageHub

from mmbeitv2.checkpoint import load_checkpoint_file
from mmbeitv2.cli import describe_user_error
from mmbeitv2.errors import NonFiniteLossError
from mmbeitv2.engine.hooks import NonFiniteLossHook

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from toy_runner import toy_runner  # noqa: E402


def test_nan_loss_stops_training_and_keeps_last_good_checkpoint(tmp_path):
    work_dir = str(tmp_path)
    runner = toy_runner(
        work_dir,
        max_iters=5,
        nan_at=3,
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    good = osp.join(work_dir, 'iter_2.pth')
    assert 'iteration 3' in message and good in message
    assert '\n' not in message
    assert describe_user_error(err.value) == message
    # The NaN step was never saved; the pointer names the last good one.
    assert not osp.exists(osp.join(work_dir, 'iter_3.pth'))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == good
    ckpt = load_checkpoint_file(good)
    assert ckpt['meta']['iter'] == 2
    assert all(v.isfinite().all() for v in ckpt['state_dict'].values())


def test_hook_reads_host_values_only():
    """The hook reads the message hub (already on the host); it never touches
    the loss tensors, so it adds no device sync."""
    hub = MessageHub(name='nonfinite_hook_unit_test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss_mim', float('inf'))
    runner = MagicMock(message_hub=hub, iter=41)
    outputs = {'loss': object(), 'loss_mim': object(), 'acc_mim': object()}
    hook = NonFiniteLossHook()
    with pytest.raises(NonFiniteLossError, match=r'iteration 42 \(loss_mim='):
        hook.after_train_iter(runner, 0, outputs=outputs)
    hub.update_scalar('train/loss_mim', 1.0)
    hook.after_train_iter(runner, 0, outputs=outputs)  # finite: no error


def _recovering(**kwargs) -> list:
    hook = dict(type='NonFiniteLossHook', max_rollbacks=1)
    hook.update(kwargs)
    return [hook]


def _ckpt(work_dir: str, it: int) -> dict:
    return load_checkpoint_file(osp.join(work_dir, f'iter_{it}.pth'))


def _same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) for k in a)


def _adamw_step(ckpt: dict) -> set:
    return {int(s['step']) for s in ckpt['optimizer']['state'].values()}


@pytest.mark.parametrize('rollback_to', ['memory', 'checkpoint'])
def test_nan_rolls_back_skips_the_batch_and_finishes(tmp_path, rollback_to):
    """NaN at iteration 5: back to the state of iteration 4 (the snapshot
    every 2 iterations / the checkpoint of every iteration), go on."""
    work_dir = str(tmp_path)
    runner = toy_runner(
        work_dir,
        max_iters=8,
        nan_at=5,
        custom_hooks=_recovering(
            rollback_to=rollback_to, snapshot_interval=2, remedy=None))
    runner.train()
    assert runner.message_hub.get_info('nonfinite_rollbacks') == 1
    before, at_nan = _ckpt(work_dir, 4), _ckpt(work_dir, 5)
    # What iteration 5 saved is iteration 4's model and optimizer (the NaN
    # step undone), under iteration 5's schedule.
    assert _same_tensors(at_nan['state_dict'], before['state_dict'])
    assert _adamw_step(at_nan) == {4}
    final = _ckpt(work_dir, 8)
    assert all(v.isfinite().all() for v in final['state_dict'].values())
    assert runner.message_hub.get_scalar('train/loss').current() < 1e3
    # 7 optimizer steps counted: 8 iterations minus the one undone.
    assert _adamw_step(final) == {7}
    with open(runner.logger.log_file) as f:
        log = f.read()
    source = ('iteration 4 (in memory)' if rollback_to == 'memory' else
              f'{osp.join(work_dir, "iter_4.pth")} (iteration 4)')
    assert ('non-finite loss at iteration 5 (loss=nan); rollback 1/1: '
            f'model and optimizer restored to {source}, this batch '
            'skipped') in log


def test_lr_scale_remedy_then_the_schedule_again(tmp_path):
    """The remedy halves lr for 2 iterations on top of the schedule
    (LinearLR to 1e-2 by iteration 4), then the schedule goes on as if
    nothing happened."""
    runner = toy_runner(
        str(tmp_path),
        max_iters=9,
        nan_at=5,
        custom_hooks=_recovering(
            snapshot_interval=2, lr_factor=0.5, remedy_iters=2))
    runner.train()
    # The lr each step used, in the order of the steps: the remedy logs the
    # scaled value after the schedule's (RuntimeInfoHook logs first).
    lrs = list(runner.message_hub.get_scalar('train/lr').data[0])
    assert lrs[4:] == pytest.approx(
        [1e-2, 1e-2, 5e-3, 1e-2, 5e-3, 1e-2, 1e-2])
    optimizer = runner.optim_wrapper.optimizer
    assert optimizer.param_groups[0]['lr'] == pytest.approx(1e-2)


def test_stop_after_max_rollbacks(tmp_path):
    """N=1: the first NaN rolls back, the second stops in one line."""
    work_dir = str(tmp_path)
    runner = toy_runner(
        work_dir,
        max_iters=8,
        nan_at=(3, 6),
        custom_hooks=_recovering(snapshot_interval=1))
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    assert message == (
        'non-finite loss at iteration 6 (loss=nan) after 1 rollbacks; '
        'training stopped, the last good checkpoint is '
        f'{osp.join(work_dir, "iter_5.pth")}; lower the learning rate or '
        'check the data, then resume with --resume')
    assert describe_user_error(err.value) == message
    assert not osp.exists(osp.join(work_dir, 'iter_6.pth'))


def test_default_keeps_no_snapshot(tmp_path):
    """Without max_rollbacks nothing is copied (the default costs
    nothing) and the first NaN stops as before."""
    hook = NonFiniteLossHook()
    runner = toy_runner(str(tmp_path), max_iters=3, custom_hooks=[hook])
    runner.train()
    assert hook._snapshot is None
