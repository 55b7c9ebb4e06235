# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/slurm_train.sh`` requeues a job whose training exited with the
preemption status (saved, wants to go on), and only that one."""
import os
import os.path as osp

import pytest
from subprocess_utils import run
from tiny_run_utils import REPO

from mmbeitv2.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE


def _slurm_train(tmp_path, srun_status: int, job_id: str = '4242'):
    """Run the script with stand-ins for srun (exits ``srun_status``) and
    scontrol (records its arguments)."""
    record = tmp_path / 'scontrol.txt'
    (tmp_path / 'srun').write_text(
        f'#!/usr/bin/env bash\nexit {srun_status}\n')
    (tmp_path / 'scontrol').write_text(
        f'#!/usr/bin/env bash\necho "$@" >> {record}\n')
    for name in ('srun', 'scontrol'):
        (tmp_path / name).chmod(0o755)
    env = dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}')
    env.pop('SLURM_JOB_ID', None)
    if job_id:
        env['SLURM_JOB_ID'] = job_id
    proc = run(['bash', osp.join(REPO, 'tools', 'slurm_train.sh'), 'PART',
                'JOB', 'CFG', 'WD', '--resume'],
               env=env, capture_output=True, timeout=60)
    requeued = record.read_text().split() if record.exists() else []
    return proc.returncode, requeued


@pytest.mark.parametrize('status,job_id,requeued', [
    (PREEMPTED_EXIT_CODE, '4242', ['requeue', '4242']),
    (PREEMPTED_EXIT_CODE, '', []),  # not under Slurm: nothing to requeue
    (0, '4242', []),
    (1, '4242', []),  # a non-finite loss: requeueing would repeat it
    (137, '4242', []),
])
def test_requeue_only_after_a_preemption_save(tmp_path, status, job_id,
                                              requeued):
    code, calls = _slurm_train(tmp_path, status, job_id)
    assert code == status
    assert calls == requeued
