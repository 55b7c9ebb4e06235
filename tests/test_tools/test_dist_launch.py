# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/dist_train.sh`` starts 2 processes with torchrun and trains (on
CPU with gloo when there is no GPU)."""
import itertools
import os.path as osp
import shutil
import socket
from typing import Iterator

import pytest
from subprocess_utils import run
from tiny_run_utils import REPO, tool_env, write_config

# torchrun's static rendezvous (what --master_addr/--master_port, so
# dist_train.sh's PORT, select) binds the TCPStore to exactly that port:
# port 0 is not an option there (the workers would be told port 0), and
# the collision-free c10d rendezvous on localhost:0 (torchrun --standalone)
# needs flags the script does not pass. So the test keeps the real script
# and retries with a fresh port when the one it picked was taken in the
# meantime: that fails fast (within seconds, before any worker starts),
# with torch's "EADDRINUSE" DistNetworkError.
PORT_TRIES = 5


def _free_ports() -> Iterator[int]:
    """Ports free when drawn (the kernel's pick for a bind to port 0)."""
    while True:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        yield port


def _dist_train(tmp: str, config: str, work_dir: str,
                ports: Iterator[int]) -> list:
    """``bash tools/dist_train.sh CONFIG 2`` with ``PORT`` from ``ports``,
    the next one while the last was in use; returns every try's result."""
    env = tool_env(tmp)
    tries = []
    for port in itertools.islice(ports, PORT_TRIES):
        env['PORT'] = str(port)
        tries.append(run(
            ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
             '--work-dir', work_dir],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=240))
        if tries[-1].returncode == 0 or \
                'EADDRINUSE' not in tries[-1].stderr:
            return tries
        shutil.rmtree(work_dir, ignore_errors=True)
    pytest.fail(f'all of {PORT_TRIES} free ports were taken before '
                'torchrun bound them')


@pytest.mark.integration
def test_dist_train_two_processes(tmp_path, checkpoint_safety):
    tmp = str(tmp_path)
    config = write_config(tmp, max_iters=4)
    work_dir = osp.join(tmp, 'work')
    # The first port is taken (listening here): the retry path runs every
    # time, on torch's real error.
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        first = taken.getsockname()[1]
        tries = _dist_train(tmp, config, work_dir,
                            itertools.chain([first], _free_ports()))
    assert len(tries) == 2, [t.stderr[-2000:] for t in tries]
    assert tries[0].returncode != 0 and 'EADDRINUSE' in tries[0].stderr
    result = tries[-1]
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
