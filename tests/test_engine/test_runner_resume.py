# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""In-process resume with :class:`SafeCheckpointRunner` (the subprocess
SIGKILL test is tests/test_tools/test_train_resume.py)."""
import os.path as osp


from toy_runner import toy_runner
from mmbeitv2.checkpoint import load_checkpoint_file


def _steps(ckpt: dict) -> set:
    return {int(s['step']) for s in ckpt['optimizer']['state'].values()}


def test_resume_from_explicit_path(tmp_path):
    first = str(tmp_path / 'first')
    toy_runner(first, max_iters=2).train()
    second = str(tmp_path / 'second')
    runner = toy_runner(
        second,
        max_iters=4,
        resume=True,
        load_from=osp.join(first, 'iter_2.pth'))
    runner.train()
    assert runner.iter == 4
    assert not osp.exists(osp.join(second, 'iter_1.pth'))
    ckpt = load_checkpoint_file(osp.join(second, 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 4 and _steps(ckpt) == {4}
    assert ckpt['param_schedulers'][0]['_global_step'] == 4


def test_auto_resume_with_damaged_pointer(tmp_path):
    work_dir = str(tmp_path)
    toy_runner(work_dir, max_iters=3).train()
    # A kill while CheckpointHook rewrote the pointer leaves it empty.
    open(osp.join(work_dir, 'last_checkpoint'), 'w').close()
    runner = toy_runner(work_dir, max_iters=5, resume=True)
    runner.train()
    assert runner.iter == 5
    ckpt = load_checkpoint_file(osp.join(work_dir, 'iter_5.pth'))
    assert _steps(ckpt) == {5}
