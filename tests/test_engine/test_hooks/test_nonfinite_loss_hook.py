# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os.path as osp
import sys
from unittest.mock import MagicMock

import pytest

from mmengine.logging import MessageHub

from mmbeitv2.checkpoint import load_checkpoint_file
from mmbeitv2.engine import NonFiniteLossError, describe_user_error
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
