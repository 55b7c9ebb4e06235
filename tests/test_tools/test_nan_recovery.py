# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/train.py`` with NaN recovery on (``NonFiniteLossHook``
``max_rollbacks=1``): one diverged step rolls back and the run finishes;
a second one stops the run with the one-line error."""
import json
import math
import os.path as osp
from glob import glob

import pytest
from fault_hook_utils import write_derived_config, write_fault_hooks
from tiny_run_utils import start_train, wait_or_kill, write_config

MAX_ITERS = 6


def _config(tmp: str, nan_at: list) -> str:
    base = write_config(tmp, max_iters=MAX_ITERS)
    write_fault_hooks(tmp)
    return write_derived_config(
        tmp, 'nan_recovery.py', base, f'''
        # the loss of each iteration, not a mean over the last 10 (which
        # holds the skipped NaN for 10 iterations)
        log_processor = dict(window_size=1)
        custom_hooks = [
            dict(type='NanWeightsAtIterHook', iterations={nan_at}),
            dict(type='NonFiniteLossHook', max_rollbacks=1,
                 snapshot_interval=2, lr_factor=0.5, remedy_iters=1)]
        ''')


def _run(tmp: str, nan_at: list) -> tuple:
    proc = start_train(tmp, _config(tmp, nan_at), osp.join(tmp, 'work'))
    status = wait_or_kill(proc, timeout=120)
    with open(proc.log_path) as f:
        return status, f.read()


@pytest.mark.integration
def test_one_nan_rolls_back_and_the_run_finishes(tmp_path):
    tmp = str(tmp_path)
    status, log = _run(tmp, [4])
    assert status == 0, log
    assert log.count('rollback 1/1') == 1
    assert ('non-finite loss at iteration 4 (loss=nan); rollback 1/1: model '
            'and optimizer restored to iteration 2 (in memory), this batch '
            'skipped; remedy lr_scale: learning rates x0.5 for the next 1 '
            'iterations') in log
    scalars = glob(osp.join(tmp, 'work', '*', 'vis_data', 'scalars.json'))
    with open(scalars[0]) as f:
        records = [json.loads(line) for line in f if '"loss"' in line]
    assert records[-1]['iter'] == MAX_ITERS
    assert math.isfinite(records[-1]['loss'])


@pytest.mark.integration
def test_nan_after_the_last_rollback_stops_in_one_line(tmp_path):
    tmp = str(tmp_path)
    status, log = _run(tmp, [3, 5])
    assert status == 1, log
    assert 'Traceback' not in log
    work = osp.join(tmp, 'work')
    assert log.strip().splitlines()[-1] == (
        'error: non-finite loss at iteration 5 (loss=nan) after 1 '
        'rollbacks; training stopped, the last good checkpoint is '
        f'{osp.join(work, "iter_4.pth")}; lower the learning rate or '
        'check the data, then resume with --resume')
