# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""tools/run_demo.py and mmbeitv2.demo: stage planning, skipping,
resuming, forcing; and one real end-to-end run of the ``tiny`` preset
(integration)."""
import glob
import json
import os
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
from subprocess_utils import run
from tool_loader import load_tool

from mmbeitv2.demo import pictures as demo_pictures
from mmbeitv2.demo import report as demo_report

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
run_demo = load_tool('run_demo.py')


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
    monkeypatch.setattr(demo_report, 'make_report',
                        lambda pipe: dict(stages=pipe.stages))
    return calls


def test_plan_points_every_stage_at_the_previous_output(
        tmp_path, fake_run):
    pipe = _pipeline(tmp_path)
    pipe.run()
    w = str(tmp_path / 'w')
    stages = [c[0] for c in fake_run]
    assert stages == ['vqkd', 'codebook', 'pretrain', 'probe',
                      'probe_random', 'probe_teacher', 'mae', 'probe_mae']
    cmds = {s: ' '.join(c) for s, c in fake_run}
    # the pixel-target baseline at the student's budget, probed alike
    mae = 'configs/demo/mae_demo_cifar10-subset.py'
    assert cmds['mae'].startswith(f'tools/train.py {mae}')
    assert 'model.backbone.init_cfg.checkpoint=' + osp.join(
        w, 'mae', 'iter_2.pth') in cmds['probe_mae']
    vqkd_ckpt = osp.join(w, 'vqkd', 'epoch_1.pth')  # tiny: 1 epoch
    pre_ckpt = osp.join(w, 'pretrain', 'iter_2.pth')  # tiny: 2 iters
    vqkd_cfg = 'configs/demo/vqkd_demo_cifar10-subset.py'
    assert cmds['vqkd'].startswith(f'tools/train.py {vqkd_cfg}')
    assert f'tools/test.py {vqkd_cfg} {vqkd_ckpt}' in cmds['codebook']
    assert 'model.target_generator.init_cfg.checkpoint=' + vqkd_ckpt \
        in cmds['pretrain']
    probe = 'tools/analysis_tools/feature_probe.py configs/demo/'
    assert cmds['probe'].startswith(probe + 'vit-4x128-p4_linear-probe_')
    assert cmds['probe_teacher'].startswith(probe + 'effnet-lite0_')
    assert 'model.backbone.init_cfg.checkpoint=' + pre_ckpt \
        in cmds['probe']
    assert 'model.backbone.init_cfg=None' in cmds['probe_random']
    # the embedded CIFAR-10 subset, unpacked under the work dir
    data = osp.join(w, 'data', 'cifar10_subset')
    assert sorted(os.listdir(osp.join(data, 'train'))) == pipe.classes
    for s in ('vqkd', 'probe', 'probe_random', 'probe_teacher'):
        assert f'test_dataloader.dataset.data_root={data}' in cmds[s]
        assert 'test_dataloader.dataset.data_prefix=test' in cmds[s]
    assert f'train_dataloader.dataset.data_root={data}' in cmds['pretrain']
    assert 'train_dataloader.dataset.indices=[0,250,' in cmds['probe']
    assert '--resume' not in ' '.join(cmds.values())
    timings = json.load(open(osp.join(w, 'timings.json')))
    assert timings['probe_random'] == 1.0


def test_amp_reaches_the_training_stages_only(tmp_path, fake_run):
    _pipeline(tmp_path).run()  # --amp is the default
    with_amp = sorted(s for s, cmd in fake_run if '--amp' in cmd)
    assert with_amp == ['mae', 'pretrain', 'vqkd']
    # tools/train.py's flag, before --cfg-options takes the rest
    for stage, cmd in fake_run:
        if stage in with_amp:
            assert cmd.index('--amp') < cmd.index('--cfg-options')
    fake_run.clear()
    _pipeline(tmp_path, '--no-amp', '--force').run()
    assert len(fake_run) == 8
    assert not any('--amp' in cmd for _, cmd in fake_run)


def test_config_replaces_a_stage_config(tmp_path, fake_run):
    abl = 'configs/demo/ablations/vqkd_demo_teacher-b15-256px.py'
    mae = 'configs/demo/ablations/mae_demo_2x.py'
    pipe = _pipeline(tmp_path, '--config', f'vqkd={abl}', f'mae={mae}')
    pipe.run()
    cmds = {s: ' '.join(c) for s, c in fake_run}
    assert [c[0] for c in fake_run] == [
        'vqkd', 'codebook', 'pretrain', 'probe', 'probe_random',
        'probe_teacher', 'mae', 'probe_mae']
    assert cmds['vqkd'].startswith(f'tools/train.py {abl}')
    assert cmds['codebook'].startswith(f'tools/test.py {abl}')  # same model
    mae_ckpt = osp.join(str(tmp_path / 'w'), 'mae', 'iter_2.pth')
    assert cmds['mae'].startswith(f'tools/train.py {mae}')
    # --no-mae: the preset without its baseline
    fake_run.clear()
    _pipeline(tmp_path, '--no-mae', '--force').run()
    assert 'mae' not in [c[0] for c in fake_run]
    assert 'model.backbone.init_cfg.checkpoint=' + mae_ckpt \
        in cmds['probe_mae']
    for bad in ('nostage=x.py', 'vqkd=configs/none.py', 'vqkd'):
        with pytest.raises(SystemExit, match='--config'):
            _pipeline(tmp_path, '--config', bad)


def test_finished_stages_are_reused_and_force_reruns_the_rest(
        tmp_path, fake_run):
    _pipeline(tmp_path).run()
    fake_run.clear()
    _pipeline(tmp_path).run()
    assert fake_run == []  # every final output exists
    _pipeline(tmp_path, '--force', 'pretrain').run()
    assert [c[0] for c in fake_run] == ['pretrain', 'probe', 'probe_random',
                                        'probe_teacher', 'mae', 'probe_mae']
    fake_run.clear()
    _pipeline(tmp_path, '--force').run()
    assert len(fake_run) == 8
    fake_run.clear()
    _pipeline(tmp_path, '--force', 'probe', '--stages', 'probe').run()
    assert [c[0] for c in fake_run] == ['probe']


def test_interrupted_stage_resumes(tmp_path, fake_run):
    _pipeline(tmp_path).run()
    w = tmp_path / 'w'
    os.remove(w / 'pretrain' / 'iter_2.pth')
    (w / 'pretrain' / 'last_checkpoint').write_text('iter_1.pth')
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
    assert f'train_dataloader.dataset.data_root={root}' in cmd
    assert 'test_dataloader.dataset.data_prefix=test' in cmd
    assert not osp.isdir(tmp_path / 'w' / 'data')  # nothing unpacked
    with pytest.raises(SystemExit, match='ImageFolder'):
        _pipeline(tmp_path, '--data', str(tmp_path / 'nowhere')).run()


def test_stage_options(tmp_path, fake_run):
    _pipeline(tmp_path, '--options', 'pretrain:train_cfg.max_iters=7',
              'vqkd:train_cfg.max_epochs=2', 'probe:randomness.seed=5',
              'all:test_dataloader.batch_size=4').run()
    cmds = {s: c for s, c in fake_run}
    assert 'train_cfg.max_iters=7' in cmds['pretrain']
    # the final checkpoints follow the options, and later stages load them
    pre = osp.join(str(tmp_path / 'w'), 'pretrain', 'iter_7.pth')
    vqkd = osp.join(str(tmp_path / 'w'), 'vqkd', 'epoch_2.pth')
    assert osp.isfile(pre) and osp.isfile(vqkd)
    assert 'model.backbone.init_cfg.checkpoint=' + pre in cmds['probe']
    assert 'model.target_generator.init_cfg.checkpoint=' + vqkd \
        in cmds['pretrain']
    for s in ('probe', 'probe_random'):  # one protocol for both probes
        assert cmds[s][-2:] == ['randomness.seed=5',
                                'test_dataloader.batch_size=4']
    assert 'randomness.seed=5' not in cmds['probe_teacher']
    assert 'test_dataloader.batch_size=4' not in cmds['pretrain']
    with pytest.raises(SystemExit, match='STAGE:KEY=VALUE'):
        _pipeline(tmp_path, '--options', 'train_cfg.max_iters=7').run()


@pytest.mark.integration
def test_tiny_preset_end_to_end(tmp_path, monkeypatch):
    """Every stage through tools/train.py / tools/test.py /
    feature_probe.py on the embedded photos, the report and its pictures;
    then a rerun plan reuses every stage's real output."""
    from PIL import Image
    w = str(tmp_path / 'w')
    cmd = [sys.executable, 'tools/run_demo.py', '--preset', 'tiny',
           '--work-dir', w, '--quiet']
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    out = run(cmd, cwd=REPO, capture_output=True, text=True, env=env,
              timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    res = json.load(open(osp.join(w, 'results.json')))
    # the report's numbers are the ones the stages wrote
    assert res['codebook_K'] == 1024
    with open(osp.join(w, 'codebook', 'tokens.pkl'), 'rb') as f:
        preds = pickle.load(f)  # written by tools/test.py in this test
    assert res['codebook_images'] == len(preds) == 10  # 10 classes x 1
    tokens = np.concatenate([np.asarray(p['tokens']).ravel() for p in preds])
    assert res['codebook_used'] == len(np.unique(tokens))
    assert res['val_rec_cos_distance'] == pytest.approx(
        np.mean([float(p['rec_cos_distance']) for p in preds]))
    for key in ('acc_mim', 'acc_mim_majority'):
        assert res[f'pretrain_{key}'] == pytest.approx(
            _last_logged(w, 'pretrain', key))
    for stage, blocks in (('probe', 4), ('probe_random', 4),
                          ('probe_teacher', 1)):
        probe = json.load(open(osp.join(w, stage, 'probe.json')))
        assert (probe['num_train'], probe['num_test']) == (20, 10)
        assert len(probe['layer_top1']) == blocks
        assert res[f'{stage}_top1'] == probe['last_top1']
        assert probe['best_top1'] == probe['layer_top1'][probe['best_layer']]
        assert probe['last_top1'] == probe['layer_top1'][-1]
    # The probe's numbers are exactly what its command gives again (same
    # checkpoint, images and seed; a fit is deterministic on one machine).
    assert _probe_again(w, tmp_path / 'probe_again', env) == {
        k: v for k, v in json.load(open(osp.join(w, 'probe', 'probe.json')))
        .items() if not k.endswith('_s')}
    # nearest neighbours by BEiT v2, random-init and MAE features
    sizes = dict(token_maps=demo_pictures.TOKEN_MAPS_SIZE,
                 nearest_neighbours=demo_pictures.nn_size(3),
                 probe_bars=demo_pictures.BARS_SIZE)
    for name in ('loss_curves', 'codebook_usage', 'data_samples',
                 'codebook_grid', *sizes):
        with Image.open(res['pictures'][name]) as img:
            assert img.format == 'PNG'
            if name in sizes:
                assert img.size == sizes[name], name
    assert '| linear probe top-1, best block' in out.stdout
    assert 'token_maps: ' + res['pictures']['token_maps'] in out.stdout
    # a rerun (in-process, without the report) runs no stage again

    def execute(self, stage, plan):
        raise AssertionError(f'{stage} ran again')

    monkeypatch.setattr(run_demo.Pipeline, 'execute', execute)
    monkeypatch.setattr(demo_report, 'make_report',
                        lambda pipe: 'report')
    assert run_demo.main(['--preset', 'tiny', '--work-dir', w,
                          '--quiet']) == 'report'


def _probe_again(work_dir: str, again: str, env: dict) -> dict:
    """The demo's ``probe`` stage command run once more, into ``again``;
    its probe.json without the timings."""
    pipe = run_demo.Pipeline(run_demo.parse_args(
        ['--preset', 'tiny', '--work-dir', work_dir, '--quiet']))
    pipe.prepare_data()  # already there: only reads the split names
    pipe.forced = set()  # what Pipeline.run sets before planning
    cmd = pipe.stage_plan('probe')['cmd']
    cmd[cmd.index('--work-dir') + 1] = str(again)
    out = run([sys.executable, *cmd], cwd=REPO, capture_output=True,
              text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    with open(osp.join(again, 'probe.json')) as f:
        return {k: v for k, v in json.load(f).items() if not k.endswith('_s')}


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


def test_nearest_neighbours_one_column_block_per_feature_set(tmp_path):
    """BEiT v2, random init and MAE side by side: the picture widens by
    one block of neighbours per set, and each set's same-class share is
    its own (features that separate the two classes give 100%)."""
    from PIL import Image
    rng = np.random.default_rng(0)
    paths = []
    for i in range(20):
        p = str(tmp_path / f'{i}.png')
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
                        ).save(p)
        paths.append(p)
    labels = np.arange(20) % 2
    separate = np.stack([labels, 1 - labels], 1).astype(float) \
        + 0.01 * rng.standard_normal((20, 2))  # same class = same direction
    feats = {'BEiT v2': separate, 'random init': rng.standard_normal((20, 2)),
             'MAE': separate}
    out = str(tmp_path / 'nn.png')
    same = demo_pictures.nearest_neighbours(paths, labels, feats,
                                            [0, 1, 2], out)
    assert list(same) == ['BEiT v2', 'random init', 'MAE']
    assert same['BEiT v2'] == same['MAE'] == 1.0
    with Image.open(out) as img:
        assert img.size == demo_pictures.nn_size(3)
    assert demo_pictures.nn_size(3)[0] - demo_pictures.nn_size(2)[0] == \
        demo_pictures.NN_K * demo_pictures.NN_TILE + demo_pictures.GAP
    assert demo_pictures.nn_size(2) == demo_pictures.NN_SIZE
