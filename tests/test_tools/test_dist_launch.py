# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/dist_train.sh`` starts 2 processes with torchrun and trains (on
CPU with gloo when there is no GPU)."""
import os.path as osp
import socket
import subprocess

import pytest

from tiny_run_utils import REPO, tool_env, write_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.integration
def test_dist_train_two_processes(tmp_path, checkpoint_safety):
    tmp = str(tmp_path)
    config = write_config(tmp, max_iters=4)
    work_dir = osp.join(tmp, 'work')
    env = tool_env(tmp)
    env['PORT'] = str(_free_port())
    result = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', work_dir],
        cwd=tmp, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[
        -3000:]
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log
    from mmbeitv2.checkpoint import load_checkpoint_file
    ckpt = load_checkpoint_file(osp.join(work_dir, 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 4
    # Every rank stepped the (DDP-synchronised) optimizer 4 times.
    assert {int(s['step']) for s in ckpt['optimizer']['state'].values()} \
        == {4}
