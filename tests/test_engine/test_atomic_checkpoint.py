# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Checkpoint writes are atomic."""
import os
import os.path as osp

import pytest
import torch
from toy_runner import toy_runner

from mmbeitv2.checkpoint import load_checkpoint_file
from mmbeitv2.engine import atomic_local_backend, atomic_write_bytes
from mmbeitv2.engine.runner import find_resumable_checkpoint


class _DiesMidway:
    """A file object that writes half of the data, then fails (as a full
    disk or a kill would leave it)."""

    def __init__(self, fd: int, mode: str) -> None:
        self._file = open(fd, mode)

    def write(self, data: bytes) -> int:
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        raise OSError('simulated failure in the middle of a write')

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def _pointer(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def test_failed_save_keeps_previous_checkpoint_and_pointer(
        tmp_path, monkeypatch):
    work_dir = str(tmp_path)
    runner = toy_runner(work_dir, max_iters=1)
    runner.train()
    first = osp.join(work_dir, 'iter_1.pth')
    assert _pointer(work_dir) == first
    good = load_checkpoint_file(first)

    # The next save (as CheckpointHook does it: `last_ckpt`, then save)
    # dies in the middle of writing the file.
    second = osp.join(work_dir, 'iter_2.pth')
    runner.message_hub.update_info('last_ckpt', second)
    monkeypatch.setattr(atomic_local_backend.os, 'fdopen', _DiesMidway)
    with pytest.raises(OSError, match='simulated'):
        runner.save_checkpoint(work_dir, 'iter_2.pth', by_epoch=False)
    monkeypatch.undo()

    assert not osp.exists(second)
    assert _pointer(work_dir) == first
    assert find_resumable_checkpoint(work_dir) == first
    reloaded = load_checkpoint_file(first)
    assert reloaded['meta']['iter'] == good['meta']['iter'] == 1
    assert torch.equal(reloaded['state_dict']['linear.weight'],
                       good['state_dict']['linear.weight'])
    # No temporary file is left behind.
    assert not [n for n in os.listdir(work_dir) if n.endswith('.tmp')]


def test_pointer_moves_only_for_regular_checkpoints(tmp_path):
    work_dir = str(tmp_path)
    runner = toy_runner(work_dir, max_iters=2)
    runner.train()
    last = osp.join(work_dir, 'iter_2.pth')
    assert _pointer(work_dir) == last
    # A best-checkpoint save (no `last_ckpt` update) leaves the pointer.
    runner.save_checkpoint(work_dir, 'best_acc_iter_2.pth', by_epoch=False)
    assert osp.isfile(osp.join(work_dir, 'best_acc_iter_2.pth'))
    assert _pointer(work_dir) == last


def test_resume_falls_back_when_pointer_is_damaged(tmp_path):
    work_dir = str(tmp_path)
    for i in (1, 2, 10):
        torch.save({}, osp.join(work_dir, f'iter_{i}.pth'))
    torch.save({}, osp.join(work_dir, 'best_acc_iter_99.pth'))
    open(osp.join(work_dir, 'last_checkpoint'), 'w').close()  # truncated
    assert find_resumable_checkpoint(work_dir) == osp.join(
        work_dir, 'iter_10.pth')
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'iter_2.pth'))
    assert find_resumable_checkpoint(work_dir) == osp.join(
        work_dir, 'iter_2.pth')
    assert find_resumable_checkpoint(str(tmp_path / 'empty')) is None


def test_atomic_write_replaces_whole_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'f.bin')
    atomic_write_bytes(b'old content', path)
    monkeypatch.setattr(atomic_local_backend.os, 'fdopen', _DiesMidway)
    with pytest.raises(OSError):
        atomic_write_bytes(b'new content that never lands', path)
    monkeypatch.undo()
    with open(path, 'rb') as f:
        assert f.read() == b'old content'
    assert os.listdir(tmp_path) == ['f.bin']
    atomic_write_bytes(b'new', path)
    with open(path, 'rb') as f:
        assert f.read() == b'new'
