# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""tools/run_demo.py: stage planning, skipping, resuming, forcing; and one
real end-to-end run of the ``tiny`` preset (integration)."""
import glob
import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
import run_demo  # noqa: E402


def _pipeline(tmp_path, *extra):
    args = run_demo.parse_args(
        ['--preset', 'tiny', '--work-dir', str(tmp_path / 'w'), '--quiet',
         *extra])
    return run_demo.Pipeline(args)


@pytest.fixture
def fake_run(monkeypatch):
    """Replace the subprocess of each stage by touching its output."""
    calls = []

    def execute(self, stage, plan):
        calls.append((stage, plan['cmd']))
        os.makedirs(osp.dirname(plan['done']), exist_ok=True)
        open(plan['done'], 'w').close()
        self.cpu_times[stage] = 0.
        return 1.0

    monkeypatch.setattr(run_demo.Pipeline, 'execute', execute)
    monkeypatch.setattr(run_demo.demo_report, 'make_report',
                        lambda pipe: dict(stages=pipe.stages))
    return calls


def test_plan_points_every_stage_at_the_previous_output(
        tmp_path, fake_run):
    pipe = _pipeline(tmp_path)
    pipe.run()
    w = str(tmp_path / 'w')
    stages = [c[0] for c in fake_run]
    assert stages == ['vqkd', 'codebook', 'pretrain', 'probe',
                      'probe_random']
    cmds = {s: ' '.join(c) for s, c in fake_run}
    vqkd_ckpt = osp.join(w, 'vqkd', 'epoch_1.pth')  # tiny: 1 epoch
    pre_ckpt = osp.join(w, 'pretrain', 'iter_4.pth')  # tiny: 4 iters
    assert cmds['vqkd'].startswith('tools/train.py configs/demo/vqkd_')
    assert f'tools/test.py configs/demo/vqkd_demo_shapes10.py {vqkd_ckpt}' \
        in cmds['codebook']
    assert 'model.target_generator.init_cfg.checkpoint=' + vqkd_ckpt \
        in cmds['pretrain']
    assert 'model.backbone.init_cfg.checkpoint=' + pre_ckpt \
        in cmds['probe']
    assert 'model.backbone.init_cfg=None' in cmds['probe_random']
    data = osp.join(w, 'data')  # tiny generates its own shapes10
    for s in ('vqkd', 'probe', 'probe_random'):
        assert f'val_dataloader.dataset.data_root={data}' in cmds[s]
        assert 'val_dataloader.dataset.data_prefix=val' in cmds[s]
    assert f'train_dataloader.dataset.data_root={data}' in cmds['pretrain']
    assert 'model.head.num_classes=10' in cmds['probe']
    assert '--resume' not in ' '.join(cmds.values())
    timings = json.load(open(osp.join(w, 'timings.json')))
    assert timings['probe_random'] == 1.0


def test_finished_stages_are_reused_and_force_reruns_the_rest(
        tmp_path, fake_run):
    _pipeline(tmp_path).run()
    fake_run.clear()
    _pipeline(tmp_path).run()
    assert fake_run == []  # every final output exists
    _pipeline(tmp_path, '--force', 'pretrain').run()
    assert [c[0] for c in fake_run] == ['pretrain', 'probe', 'probe_random']
    fake_run.clear()
    _pipeline(tmp_path, '--force').run()
    assert len(fake_run) == 5
    fake_run.clear()
    _pipeline(tmp_path, '--force', 'probe', '--stages', 'probe').run()
    assert [c[0] for c in fake_run] == ['probe']


def test_interrupted_stage_resumes(tmp_path, fake_run):
    _pipeline(tmp_path).run()
    w = tmp_path / 'w'
    os.remove(w / 'pretrain' / 'iter_4.pth')
    (w / 'pretrain' / 'last_checkpoint').write_text('iter_2.pth')
    fake_run.clear()
    _pipeline(tmp_path).run()
    assert [c[0] for c in fake_run] == ['pretrain']
    assert '--resume' in fake_run[0][1]
    # a forced stage starts over instead
    fake_run.clear()
    _pipeline(tmp_path, '--force', 'pretrain').run()
    assert '--resume' not in fake_run[0][1]


def test_user_data_folder(tmp_path, fake_run):
    root = tmp_path / 'mine'
    for split in ('train', 'test'):  # CIFAR-style: no val/, a test/ split
        for c in ('cat', 'dog', 'eel'):
            (root / split / c).mkdir(parents=True)
    pipe = _pipeline(tmp_path, '--data', str(root))
    pipe.run()
    assert pipe.val_split == 'test' and pipe.classes == ['cat', 'dog', 'eel']
    cmd = ' '.join(dict((s, c) for s, c in fake_run)['probe'])
    assert 'model.head.num_classes=3' in cmd
    assert 'val_dataloader.dataset.data_prefix=test' in cmd
    assert not osp.isdir(tmp_path / 'w' / 'data')  # nothing generated
    with pytest.raises(SystemExit, match='ImageFolder'):
        _pipeline(tmp_path, '--data', str(tmp_path / 'nowhere')).run()


def test_stage_options(tmp_path, fake_run):
    _pipeline(tmp_path, '--options', 'pretrain:train_cfg.max_iters=7',
              'probe:train_cfg.max_epochs=2',
              'all:randomness.seed=3').run()
    cmds = {s: c for s, c in fake_run}
    assert 'train_cfg.max_iters=7' in cmds['pretrain']
    # the final checkpoint follows the option, and the probes load it
    pre = osp.join(str(tmp_path / 'w'), 'pretrain', 'iter_7.pth')
    assert osp.isfile(pre)
    assert 'model.backbone.init_cfg.checkpoint=' + pre in cmds['probe']
    for s in ('probe', 'probe_random'):  # one protocol for both probes
        assert cmds[s][-2:] == ['train_cfg.max_epochs=2',
                                'randomness.seed=3']
        assert osp.isfile(tmp_path / 'w' / s / 'epoch_2.pth')
    assert 'train_cfg.max_epochs=2' not in cmds['vqkd']
    with pytest.raises(SystemExit, match='STAGE:KEY=VALUE'):
        _pipeline(tmp_path, '--options', 'train_cfg.max_iters=7').run()


@pytest.mark.integration
def test_tiny_preset_end_to_end(tmp_path):
    """Every stage through tools/train.py / tools/test.py, then a rerun that
    reuses all of them."""
    w = str(tmp_path / 'w')
    cmd = [sys.executable, 'tools/run_demo.py', '--preset', 'tiny',
           '--work-dir', w, '--quiet']
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    res = json.load(open(osp.join(w, 'results.json')))
    # the report's numbers are the ones the stages wrote
    assert res['codebook_K'] == 1024
    with open(osp.join(w, 'codebook', 'tokens.pkl'), 'rb') as f:
        preds = pickle.load(f)  # written by tools/test.py in this test
    assert res['codebook_images'] == len(preds) == 20  # 10 classes x 2
    tokens = np.concatenate([np.asarray(p['tokens']).ravel() for p in preds])
    assert res['codebook_used'] == len(np.unique(tokens))
    assert res['val_rec_cos_distance'] == pytest.approx(
        np.mean([float(p['rec_cos_distance']) for p in preds]))
    for key in ('acc_mim', 'acc_mim_majority'):
        assert res[f'pretrain_{key}'] == pytest.approx(
            _last_logged(w, 'pretrain', key))
    for stage in ('probe', 'probe_random'):
        top1 = _last_logged(w, stage, 'accuracy/top1')
        assert res[f'{stage}_top1'] == pytest.approx(top1)
        # 20 val images: top-1 is a multiple of 5 %
        assert top1 / 5 == pytest.approx(round(top1 / 5))
    for name in ('loss_curves', 'codebook_usage', 'data_samples'):
        with open(res['pictures'][name], 'rb') as f:
            assert f.read(4) == b'\x89PNG'
    assert '| linear probe top-1' in out.stdout
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                           env=env, timeout=600)
    assert again.returncode == 0
    assert again.stdout.count('done before, reused') == 5


def _last_logged(work_dir: str, stage: str, key: str) -> float:
    """The last value of ``key`` in a stage's mmengine ``scalars.json``."""
    values = []
    for path in sorted(
            glob.glob(
                osp.join(work_dir, stage, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            values += [
                rec[key] for rec in map(json.loads, filter(str.strip, f))
                if key in rec
            ]
    return values[-1]
