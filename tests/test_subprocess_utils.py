# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""tests/subprocess_utils.py: a timeout kills the command's whole process
group (grandchildren included), with a clear failure."""
import os
import subprocess
import sys
import time

import pytest
from subprocess_utils import run


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as dead)."""
    try:
        with open(f'/proc/{pid}/status') as f:
            return 'State:\tZ' not in f.read()
    except FileNotFoundError:
        return False


def test_output_exit_status_and_check():
    out = run([sys.executable, '-c', 'print("hi"); import sys; sys.exit(3)'],
              capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (3, 'hi\n')
    with pytest.raises(subprocess.CalledProcessError):
        run([sys.executable, '-c', 'raise SystemExit(1)'], check=True,
            timeout=60)
    echo = run(['cat'], input='x', capture_output=True, text=True,
               timeout=60)
    assert echo.stdout == 'x'


@pytest.mark.skipif(not os.path.isdir('/proc'), reason='Linux /proc')
def test_timeout_kills_the_grandchildren_too(tmp_path):
    """``bash`` starts a ``sleep`` (as torchrun starts its workers):
    ``subprocess.run``'s timeout would kill bash only."""
    pidfile = tmp_path / 'pid'
    script = f'sleep 300 & echo $! > {pidfile}; wait'
    start = time.monotonic()
    with pytest.raises(pytest.fail.Exception,
                       match=r'bash -c .* ran past 5 s; its process group '
                       r'was killed'):
        run(['bash', '-c', script], capture_output=True, text=True,
            timeout=5)
    assert time.monotonic() - start < 60
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10  # the reaper's turn
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), f'grandchild {pid} survived the timeout'
