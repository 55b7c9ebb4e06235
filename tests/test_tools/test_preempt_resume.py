# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Preempted in the middle of an epoch (SIGUSR1, what ``sbatch --signal``
sends) and resumed with ``--resume``, VQ-KD and BEiT v2 pretraining end
with the weights, buffers (codebook, EMA statistics) and optimizer state of
an uninterrupted run of the same length, within 1e-6."""
import os.path as osp

import pytest
import torch
from fault_hook_utils import write_derived_config, write_fault_hooks
from tiny_run_utils import (load_checkpoint, random_tokenizer_file,
                            start_train, wait_or_kill, write_pretrain_config,
                            write_vqkd_config)

from mmbeitv2.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE

MAX_ITERS = 6
SIGNAL_AT = 3  # 8 images, batch 2: iteration 3 is inside the first epoch

pytestmark = pytest.mark.integration


def _run(tmp: str, config: str, work_dir: str, *extra: str) -> tuple:
    """Exit status and log of one ``tools/train.py`` run."""
    proc = start_train(tmp, config, work_dir, *extra)
    code = wait_or_kill(proc, timeout=300)
    with open(proc.log_path) as f:
        return code, f.read()


@pytest.mark.parametrize('stage', ['vqkd', 'pretrain'])
def test_preempted_then_resumed_equals_uninterrupted(tmp_path, stage):
    tmp = str(tmp_path)
    if stage == 'vqkd':
        config = write_vqkd_config(tmp, MAX_ITERS)
    else:
        config = write_pretrain_config(tmp, random_tokenizer_file(tmp),
                                       MAX_ITERS)
    write_fault_hooks(tmp)
    preempted = write_derived_config(
        tmp, 'preempted.py', config, f'''
        custom_hooks = [
            dict(type='SleepHook', seconds=0.0),
            dict(type='SignalAtIterHook', iteration={SIGNAL_AT},
                 signal='SIGUSR1')]
        ''')
    work_dir = osp.join(tmp, 'work')
    code, log = _run(tmp, preempted, work_dir)
    assert code == PREEMPTED_EXIT_CODE, log[-3000:]
    saved = load_checkpoint(osp.join(work_dir, f'iter_{SIGNAL_AT}.pth'))
    assert saved['meta']['iter'] == SIGNAL_AT
    assert not osp.exists(osp.join(work_dir, f'iter_{SIGNAL_AT + 1}.pth'))
    # the requeued job: same command with --resume (the signal hook fires
    # only at iteration SIGNAL_AT, which the resumed run is past)
    code, log = _run(tmp, preempted, work_dir, '--resume')
    assert code == 0, log[-3000:]
    assert 'Auto resumed from the latest checkpoint' in log

    ref_dir = osp.join(tmp, 'reference')
    code, log = _run(tmp, config, ref_dir)
    assert code == 0, log[-3000:]
    final = load_checkpoint(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    ref = load_checkpoint(osp.join(ref_dir, f'iter_{MAX_ITERS}.pth'))
    assert final['meta']['iter'] == ref['meta']['iter'] == MAX_ITERS
    assert set(final['state_dict']) == set(ref['state_dict'])
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(
            final['state_dict'][key], value, rtol=0, atol=1e-6, msg=key)
    for idx, state in ref['optimizer']['state'].items():
        for name, value in state.items():
            torch.testing.assert_close(
                final['optimizer']['state'][idx][name], value, rtol=0,
                atol=1e-6, msg=f'optimizer {idx} {name}')
    # the run was not trivially the same: the weights moved after the save
    moved = [k for k, v in ref['state_dict'].items()
             if v.is_floating_point()
             and not torch.equal(v, saved['state_dict'][k])]
    assert len(moved) > 10
