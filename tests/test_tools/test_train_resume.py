# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/train.py`` killed with SIGKILL mid-run, then ``--resume auto``."""
import importlib.util
import os
import os.path as osp
import sys

import pytest
import torch
from tiny_run_utils import (REPO, kill_after_checkpoint, latest_checkpoint,
                            start_train, wait_or_kill, write_config)

MAX_ITERS = 6
KILL_AFTER = 2  # the run pauses after iter_2.pth; the test kills it


def _load(path: str) -> dict:
    # weights_only=True with the allow-list: the same path resume takes.
    from mmbeitv2.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path)


def _latest(work_dir: str) -> str:
    return latest_checkpoint(work_dir)


def _latest_at(work_dir: str, it: int) -> str:
    return osp.join(work_dir, f'iter_{it}.pth')


def _adamw_steps(ckpt: dict) -> set:
    return {
        int(state['step'])
        for state in ckpt['optimizer']['state'].values()
    }


@pytest.mark.integration
def test_sigkill_then_resume_auto_then_test(tmp_path):
    tmp = str(tmp_path)
    config = write_config(tmp, max_iters=MAX_ITERS)
    work_dir = osp.join(tmp, 'work')

    proc = start_train(tmp, config, work_dir, pause_after=KILL_AFTER)
    # Killed in a finally, so a failing assert leaves no run behind.
    killed_at = kill_after_checkpoint(proc, work_dir, KILL_AFTER)
    # What the killed run left: the kill came mid-run, right after iter 2.
    assert killed_at == KILL_AFTER
    assert not osp.exists(_latest_at(work_dir, KILL_AFTER + 1))
    before = _load(_latest(work_dir))
    assert before['meta']['iter'] == killed_at

    # `--amp` on a machine without CUDA must not crash: bf16 autocast where
    # the CPU multiplies bf16 natively, else fp32; one line says which.
    proc = start_train(tmp, config, work_dir, '--resume', '--amp')
    assert wait_or_kill(proc, timeout=180) == 0
    with open(proc.log_path) as f:
        log = f.read()
    resumed = 'Auto resumed from the latest checkpoint ' + _latest_at(
        work_dir, killed_at)
    assert resumed in log
    # The tools add the non-finite loss guard to every run.
    assert '(ABOVE_NORMAL) NonFiniteLossHook' in log
    if not torch.cuda.is_available():
        from mmbeitv2.cli.amp import cpu_bf16_support
        supported, why = cpu_bf16_support()
        assert (f'bf16 autocast on CPU ({why}' if supported else
                f'training in fp32 ({why}') in log
    final = _load(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    assert _latest(work_dir) == osp.join(work_dir, f'iter_{MAX_ITERS}.pth')

    # Same iteration count as an uninterrupted run.
    assert final['meta']['iter'] == MAX_ITERS
    # RuntimeInfoHook records the 0-based index of the running iteration.
    assert final['message_hub']['runtime_info']['iter'] == MAX_ITERS - 1
    # The resumed run did not restart: it saved no checkpoint at or before
    # the kill point again (its files keep the first run's content).
    again = _load(osp.join(work_dir, f'iter_{killed_at}.pth'))
    assert again['meta']['time'] == before['meta']['time']
    # Optimizer state carried over: AdamW counted every step of both runs
    # (a fresh optimizer would have MAX_ITERS - killed_at).
    assert _adamw_steps(before) == {killed_at}
    assert _adamw_steps(final) == {MAX_ITERS}
    # Scheduler state carried over: identical to schedulers stepped once per
    # iteration without interruption (as ParamSchedulerHook does).
    reference, ref_lr = _uninterrupted_schedulers(MAX_ITERS)
    for got, want in zip(final['param_schedulers'], reference):
        assert got['_global_step'] == want['_global_step'] == MAX_ITERS
        assert got['last_step'] == want['last_step']
        assert got['_last_value'] == pytest.approx(want['_last_value'])
    lr = final['optimizer']['param_groups'][0]['lr']
    assert lr == pytest.approx(ref_lr, abs=1e-12)
    assert before['optimizer']['param_groups'][0]['lr'] > ref_lr

    # Checkpoints are world-readable like plain writes, not mkstemp's 0600.
    final_path = osp.join(work_dir, f'iter_{MAX_ITERS}.pth')
    assert os.stat(final_path).st_mode & 0o044 == 0o044
    # tools/test.py evaluates the mmengine-saved checkpoint with safe
    # loading (no trust flag): exactly the top-1 of the final weights on
    # the 8 images, classified here without the tool.
    acc = _run_tools_test(config, final_path, tmp)['accuracy/top1']
    assert acc == pytest.approx(_top1_of(config, final_path, tmp), abs=1e-9)


def _uninterrupted_schedulers(steps: int) -> tuple:
    """The config's schedulers stepped ``steps`` times in one go."""
    from mmengine.optim import CosineAnnealingLR, LinearLR
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=1e-3, weight_decay=0.05)
    schedulers = [
        LinearLR(optimizer, start_factor=0.1, by_epoch=False, begin=0, end=3),
        CosineAnnealingLR(
            optimizer, by_epoch=False, begin=3, end=steps, T_max=steps - 3),
    ]
    for _ in range(steps):
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return ([s.state_dict() for s in schedulers],
            optimizer.param_groups[0]['lr'])


def _top1_of(config: str, ckpt: str, tmp: str) -> float:
    """Top-1 (%) of ``ckpt``'s weights on the tiny image folder, through
    ``mmbeitv2.apis`` (not the runner or the Accuracy metric)."""
    from mmbeitv2.apis import get_model
    from mmbeitv2.apis.inference import classify, image_list
    root = osp.join(tmp, 'images')
    # CustomDataset numbers the class folders in sorted order
    classes = sorted(os.listdir(root))
    images = [(path, label) for label, cls in enumerate(classes)
              for path in image_list(osp.join(root, cls))]
    assert len(images) == 8
    sys.path.insert(0, tmp)  # the config's custom_imports (sleep_hook)
    try:
        model = get_model(config, ckpt)
    finally:
        sys.path.remove(tmp)
    preds = classify(model, [p for p, _ in images], topk=1)
    correct = sum(top[0]['label'] == label
                  for top, (_, label) in zip(preds, images))
    return 100.0 * correct / len(images)


def _run_tools_test(config: str, ckpt: str, tmp: str) -> dict:
    """``tools/test.py CONFIG CKPT`` in this process; returns its metrics."""
    spec = importlib.util.spec_from_file_location(
        'mmbeitv2_tools_test', osp.join(REPO, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    sys.path.insert(0, tmp)  # the config's custom_imports (sleep_hook)
    try:
        return tool.main(
            [config, ckpt, '--work-dir',
             osp.join(tmp, 'test_work')])
    finally:
        sys.path.remove(tmp)
