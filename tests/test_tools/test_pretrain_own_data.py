# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""tools/pretrain_own_data.py and mmbeitv2.demo.own_data: the stage plan
and configs on a folder of images made here (no labels, nested folders),
a failed stage and the rerun that continues, ``--gpus 2`` command lines,
``--labels`` (kNN monitor, probes), teachers, the export to timm and
Hugging Face; and (integration) the paper-size configs stepping once at
224 px and the whole ``tiny`` run end to end."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image
from subprocess_utils import run
from tool_loader import load_tool

from mmbeitv2.demo import own_data_report
from mmbeitv2.demo.own_data import OwnDataPipeline, parse_teacher
from mmbeitv2.demo.own_data_configs import (StageConfigs, parse_options,
                                            set_schedule, steps_per_epoch,
                                            teacher_config)
from mmbeitv2.demo.own_data_recipes import ARCHS
from mmbeitv2.demo.pipeline import Pipeline

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
own_data = load_tool('pretrain_own_data.py')
NUM_IMAGES = 6


def make_images(root, num=NUM_IMAGES, size=(40, 36)):
    """``num`` random PNGs in nested folders (no class layout)."""
    rng = np.random.default_rng(0)
    for i in range(num):
        folder = osp.join(root, 'a' if i % 2 else osp.join('b', 'c'))
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)
                        ).save(osp.join(folder, f'{i}.png'))
    return str(root)


def make_labels(root):
    """A labelled ImageFolder: train/ and test/, 2 classes."""
    for split, num in (('train', 4), ('test', 2)):
        for c in ('cat', 'dog'):
            make_images(osp.join(root, split, c), num, (32, 32))
    return str(root)


def pipeline(tmp_path, *extra, arch='tiny'):
    args = own_data.parse_args(
        ['--data', str(tmp_path / 'imgs'), '--arch', arch, '--work-dir',
         str(tmp_path / 'w'), '--quiet', *extra])
    return OwnDataPipeline(args, root=REPO)


@pytest.fixture
def images(tmp_path):
    return make_images(tmp_path / 'imgs')


@pytest.fixture
def fake_run(monkeypatch):
    """Each stage 'runs' by touching its output (its config is written
    as for real: OwnDataPipeline.execute writes it, then calls this);
    ``fail`` names stages that fail instead."""
    class Calls(list):
        fail = set()

    calls = Calls()
    fail = calls.fail

    def execute(self, stage, plan):
        calls.append((stage, plan))
        if stage in fail:
            raise SystemExit(f'stage {stage} failed')
        os.makedirs(plan['dir'], exist_ok=True)
        open(plan['done'], 'w').close()
        self.cpu_times[stage] = 0.
        return 1.0

    monkeypatch.setattr(Pipeline, 'execute', execute)
    monkeypatch.setattr(own_data_report, 'make_report',
                        lambda pipe: dict(stages=pipe.stages))
    return calls


def _cfg(plan):
    return Config.fromfile(plan['config'])


def test_plan_and_configs_of_a_folder_without_labels(
        tmp_path, images, fake_run):
    pipeline(tmp_path).run()
    w = str(tmp_path / 'w')
    assert [s for s, _ in fake_run] == ['vqkd', 'pretrain', 'export']
    plans = dict(fake_run)
    vqkd_ckpt = osp.join(w, 'vqkd', 'epoch_1.pth')  # tiny: 1 epoch each
    assert plans['vqkd']['cmd'] == [
        'tools/train.py', plans['vqkd']['config'], '--work-dir',
        osp.join(w, 'vqkd')]
    assert plans['vqkd']['done'] == vqkd_ckpt
    assert plans['export']['done'] == osp.join(w, 'export', 'export.json')
    # the full configs are in the stage dirs and point at each other
    vq, pre = _cfg(plans['vqkd']), _cfg(plans['pretrain'])
    assert osp.dirname(plans['pretrain']['config']) == osp.join(w, 'pretrain')
    for cfg in (vq, pre):
        assert cfg.train_dataloader.dataset == dict(
            type='UnlabeledImageFolder', data_root=images,
            pipeline=cfg.train_dataloader.dataset.pipeline)
        assert cfg.train_cfg == dict(type='EpochBasedTrainLoop',
                                     max_epochs=1)
        assert cfg.val_dataloader is None and cfg.default_hooks.checkpoint \
            .interval == 1
    tok = pre.model.target_generator
    assert tok.init_cfg.checkpoint == vqkd_ckpt and tok.teacher is None
    for key in ('encoder', 'decoder', 'quantizer', 'decoder_out_dims'):
        assert tok[key] == vq.model[key], key
    assert pre.model.head.num_embed == vq.model.quantizer.num_embed == 64
    # 6 images, batch 2: 3 iterations; warmup 1, then cosine to the end
    assert [(s.type, s.begin, s.end) for s in pre.param_scheduler] == [
        ('LinearLR', 0, 1), ('CosineAnnealingLR', 1, 3)]
    assert vq.model.teacher.type == 'EfficientNetLite0Teacher'
    assert vq.model.teacher.cache  # the demo's speed option stays


def test_failed_stage_then_rerun_continues(tmp_path, images, fake_run):
    fake_run.fail.add('pretrain')
    with pytest.raises(SystemExit, match='pretrain failed'):
        pipeline(tmp_path).run()
    assert [s for s, _ in fake_run] == ['vqkd', 'pretrain']
    # the killed pretraining left a checkpoint of an earlier epoch
    (tmp_path / 'w' / 'pretrain' / 'last_checkpoint').write_text('x')
    fake_run.fail.clear()
    fake_run.clear()
    pipeline(tmp_path).run()
    assert [s for s, _ in fake_run] == ['pretrain', 'export']  # vqkd reused
    assert '--resume' in fake_run[0][1]['cmd']
    fake_run.clear()
    pipeline(tmp_path, '--force', 'pretrain').run()
    assert [s for s, _ in fake_run] == ['pretrain', 'export']
    assert '--resume' not in fake_run[0][1]['cmd']
    with pytest.raises(SystemExit, match='need --labels'):
        pipeline(tmp_path, '--stages', 'probe')


def test_gpus_build_dist_train_commands(tmp_path, images):
    pipe = pipeline(tmp_path, '--gpus', '2', '--amp')
    pipe.forced = set()  # what Pipeline.run sets before planning
    pipe.prepare_data()
    w = str(tmp_path / 'w')
    for stage in ('vqkd', 'pretrain'):
        plan = pipe.stage_plan(stage)
        assert plan['launcher'] == 'bash'
        assert plan['cmd'] == [
            'tools/dist_train.sh', pipe.config_path(stage), '2',
            '--work-dir', osp.join(w, stage), '--amp']
        # 6 images on 2 ranks: 3 each, batch 2 -> 1 iteration per epoch
        loader = pipe.cfgs[stage].train_dataloader
        assert steps_per_epoch(NUM_IMAGES, loader.batch_size, 2,
                               loader.get('drop_last', False)) == 1
    assert pipe.stage_plan('export')['call'] == pipe.export


def test_labels_add_the_knn_monitor_and_the_probes(tmp_path, images,
                                                   fake_run):
    labels = make_labels(tmp_path / 'labels')
    pipeline(tmp_path, '--labels', labels).run()
    w = str(tmp_path / 'w')
    plans = dict(fake_run)
    assert list(plans) == ['vqkd', 'pretrain', 'probe', 'probe_random',
                           'export']
    hooks = _cfg(plans['pretrain']).custom_hooks
    knn = [h for h in hooks if h.type == 'KNNMonitorHook']
    assert len(knn) == 1
    bank, query = (knn[0][f'{split}_dataloader'].dataset
                   for split in ('bank', 'query'))
    assert (bank.data_root, bank.data_prefix) == (labels, 'train')
    assert (query.data_root, query.data_prefix) == (labels, 'test')
    assert knn[0].k == 8  # at most the bank's 8 images
    assert knn[0].interval == 1  # 3 iterations: a measurement after each
    probe, rand = _cfg(plans['probe']), _cfg(plans['probe_random'])
    assert plans['probe']['cmd'][0] == 'tools/analysis_tools/feature_probe.py'
    assert probe.model.backbone.init_cfg.checkpoint == osp.join(
        w, 'pretrain', 'epoch_1.pth')
    assert rand.model.backbone.init_cfg is None
    pre = _cfg(plans['pretrain']).model.backbone
    for cfg in (probe, rand):
        assert cfg.model.backbone.arch == pre.arch
        assert cfg.model.backbone.out_indices == [0, 1]
        assert cfg.test_dataloader.dataset.data_prefix == 'test'
        assert cfg.model.head.num_classes == 2


def test_teachers(tmp_path):
    weights = tmp_path / 'open_clip_model.bin'
    weights.write_bytes(b'')
    assert parse_teacher('clip-b16') == ('clip-b16', None)
    assert parse_teacher(f'clip-b16={weights}') == ('clip-b16', str(weights))
    for bad, msg in (('resnet', 'use one of'), (str(weights), 'clip-b16='),
                     ('clip-b16=/nowhere.bin', 'not a file')):
        with pytest.raises(SystemExit, match=msg):
            parse_teacher(bad)
    with pytest.raises(SystemExit, match='no weights file'):
        teacher_config('effnet-lite0', REPO, str(weights))
    configs = StageConfigs(ARCHS['vit-b'], REPO)
    teacher, dims = teacher_config('dinov2-b14', REPO, str(weights))
    vq = configs.vqkd('data', 100, 1, 2, teacher, dims)
    assert vq.model.teacher.type == 'TimmViTTeacher'
    assert vq.model.teacher.pretrained == str(weights)
    assert vq.model.decoder_out_dims == 768
    assert vq.auto_scale_lr.enable  # the paper lr is for 512 images a step
    # the CPU recipe keeps its teacher cache with another teacher
    cpu = StageConfigs(ARCHS['cpu'], REPO)
    vq = cpu.vqkd('data', 100, 1, 2, *teacher_config('clip-b16', REPO))
    assert vq.model.teacher.type == 'CLIPTeacher' and vq.model.teacher.cache
    assert vq.model.decoder_out_dims == 512 and not vq.auto_scale_lr.enable


def test_options_reach_the_stage_configs(tmp_path):
    opts = parse_options(['pretrain:train_dataloader.batch_size=4',
                          'all:randomness.seed=3', 'vqkd:model.quantizer.'
                          'num_embed=32'])
    assert opts == {'pretrain': {'train_dataloader.batch_size': 4},
                    'all': {'randomness.seed': 3},
                    'vqkd': {'model.quantizer.num_embed': 32}}
    for bad in ('train_cfg.max_epochs=3', 'export:x=1', 'vqkd:x'):
        with pytest.raises(SystemExit, match='STAGE:KEY=VALUE'):
            parse_options([bad])
    configs = StageConfigs(ARCHS['tiny'], REPO, opts)
    teacher = teacher_config('effnet-lite0', REPO)
    vq = configs.vqkd('data', 100, 1, 1, *teacher)
    pre = configs.pretrain('data', 100, 1, 1, vq, 'vqkd.pth')
    assert vq.randomness.seed == pre.randomness.seed == 3
    assert pre.train_dataloader.batch_size == 4  # set before the schedule
    assert pre.param_scheduler[-1].end == 25  # 100 images / 4
    assert pre.model.head.num_embed == 32  # the head follows the codebook


def test_report_reads_the_codebook_hook_lines(tmp_path):
    """Dead codes per epoch and the alarms, from CodebookUsageHook's log
    lines (a resumed run's epoch replaces the earlier one)."""
    for run_dir, lines in (
            ('20261201_000000', [
                'INFO - Epoch 1: unused codes in codebook: 5 / 16 (68.8% '
                'used)', 'INFO - Epoch 2: unused codes in codebook: 9 / 16',
                'WARNING - CodebookUsageHook: the VQ-KD codebook is '
                'collapsing: usage 6.2% (1/16 codes hit) < min_usage 50% '
                '(iterations 3-3, 64 tokens over all ranks). Likely causes '
                'and fixes: ...']),
            ('20261201_010000', [
                'INFO - Epoch 2: unused codes in codebook: 1 / 16',
                'INFO - CodebookUsageHook: the VQ-KD codebook recovered '
                '(iterations 5-5): usage 100.0%'])):
        os.makedirs(tmp_path / run_dir)
        (tmp_path / run_dir / f'{run_dir}.log').write_text(
            '\n'.join(lines) + '\n')
    dead, alarms = own_data_report.codebook_log(str(tmp_path))
    assert dead == [[1, 5], [2, 1]]
    assert alarms == [
        'is collapsing: usage 6.2% (1/16 codes hit) < min_usage 50% '
        '(iterations 3-3, 64 tokens over all ranks)',
        'recovered (iterations 5-5)']


def test_schedule():
    assert steps_per_epoch(10, 4, 1, drop_last=True) == 2
    assert steps_per_epoch(10, 4, 1, drop_last=False) == 3
    assert steps_per_epoch(10, 4, 3, drop_last=False) == 1  # 4 per rank
    cfg = Config(dict(param_scheduler=[
        dict(type='LinearLR', start_factor=1e-3, end=5),
        dict(type='CosineAnnealingLR', eta_min=1e-5, end=50)]))
    set_schedule(cfg, epochs=10, steps=100, warmup_share=0.1)
    assert cfg.train_cfg.max_epochs == 10
    warm, cos = cfg.param_scheduler
    assert (warm.start_factor, warm.end, cos.begin, cos.end, cos.eta_min) \
        == (1e-3, 100, 100, 1000, 1e-5)
    set_schedule(cfg, epochs=1, steps=1, warmup_share=0.1)
    assert cfg.param_scheduler == []  # one step: a constant lr


def _tiny_pretrain_backbone(tmp_path, images):
    """The tiny recipe's pretraining backbone with random weights, saved
    as a BEiTv2 checkpoint would hold it."""
    from mmengine.registry import DefaultScope

    from mmbeitv2.registry import MODELS
    pipe = pipeline(tmp_path)
    pipe.prepare_data()
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        vit = MODELS.build(pipe.cfgs['pretrain'].model.backbone)
    torch.manual_seed(0)
    for p in vit.parameters():  # unit gammas / zero tables hide bugs
        torch.nn.init.normal_(p, std=0.1)
    state = {'backbone.' + k: v for k, v in vit.state_dict().items()}
    state['neck.norm.weight'] = torch.ones(3)
    state['target_generator.quantize.embedding.weight'] = torch.ones(4, 2)
    src = str(tmp_path / 'pretrain.pth')
    torch.save({'state_dict': state}, src)
    return vit.eval(), src


def test_exported_models_give_the_backbone_features(tmp_path, images):
    pytest.importorskip('timm')
    pytest.importorskip('transformers')
    from mmbeitv2.checkpoint.export import export_backbone
    vit, src = _tiny_pretrain_backbone(tmp_path, images)
    info = export_backbone(src, str(tmp_path / 'export'))
    assert_exports_match(info, vit)


def assert_exports_match(info: dict, vit: torch.nn.Module) -> None:
    """timm ``Beit`` and transformers ``BeitModel`` from the exported
    files give ``vit``'s last-block tokens within 1e-5."""
    import timm
    import transformers
    from safetensors.torch import load_file
    model = timm.create_model(info['timm_model'], pretrained=False,
                              num_classes=0, **info['timm_kwargs'])
    model.load_state_dict(load_file(info['timm']), strict=True)
    hf, loading = transformers.BeitModel.from_pretrained(
        info['hf'], output_loading_info=True)
    assert not loading['missing_keys'] and not loading['unexpected_keys']
    size = info['settings']['img_size']
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        ours = vit(x)[-1]  # (B, 1 + N, C)
        torch.testing.assert_close(model.eval().forward_features(x), ours,
                                   atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(hf.eval()(pixel_values=x)
                                   .last_hidden_state, ours, atol=1e-5,
                                   rtol=1e-5)
    sd = torch.load(info['mmbeitv2'], weights_only=True)['state_dict']
    assert all(k.startswith('backbone.') for k in sd)


@pytest.mark.integration
def test_paper_size_configs_step_once(tmp_path):
    """vit-s / vit-b / vit-l: the generated VQ-KD and pretraining configs
    at 224 px with the offline teacher, one step each (batch 1; vit-l with
    2 of its 24 blocks, through --options, the same config path; models
    not initialised: BEiT v2's truncated-normal init of a ViT-B takes
    ~40 s on 2 loaded cores). The pretraining's tokenizer has the trained
    VQ-KD's tensors."""
    root = make_images(tmp_path / 'imgs', 2, (64, 48))
    teacher = teacher_config('effnet-lite0', REPO)
    large_2_blocks = {'pretrain': {
        'model.backbone.arch': dict(_delete_=True, embed_dims=1024,
                                    num_layers=2, num_heads=16,
                                    feedforward_channels=4096),
        'model.neck.early_layers': 1}}
    vqkd = first = None
    for arch in ('vit-b', 'vit-s', 'vit-l'):
        configs = StageConfigs(ARCHS[arch], REPO,
                               large_2_blocks if arch == 'vit-l' else {})
        vq = configs.vqkd(root, 2, 1, 1, *teacher)
        if vqkd is None:
            vqkd, first = _step(vq), vq.model
            assert vq.model.encoder.img_size == 224
        else:  # one tokenizer recipe for every student size
            assert vq.model == first
        pre = configs.pretrain(root, 2, 1, 1, vq, 'tokenizer.pth')
        assert pre.train_dataloader.dataset.pipeline[-2].input_size == 224
        model = _step(pre, no_tokenizer_checkpoint=True)
        ours = {k: v.shape for k, v in vqkd.state_dict().items()
                if not k.startswith('teacher')}
        assert {k: v.shape for k, v in model.target_generator.state_dict()
                .items()} == ours


def _step(cfg: Config, no_tokenizer_checkpoint: bool = False):
    """Build the config's model, optimizer and dataloader (batch 1) as
    tools/train.py does and run one training step."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from mmbeitv2.cli import set_default_dataloaders
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)  # mmpretrain's too
    if no_tokenizer_checkpoint:  # none was trained here
        cfg.model.target_generator.init_cfg = None
    cfg.train_dataloader.update(batch_size=1, num_workers=0,
                                persistent_workers=False)
    set_default_dataloaders(cfg)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(cfg.model)
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
        model.train()
        losses = model.train_step(batch, optim)
    assert all(torch.isfinite(v).all() for v in losses.values()), losses
    return model


@pytest.mark.integration
def test_tiny_run_end_to_end(tmp_path):
    """The command on 6 nested images: only the first stage (a run killed
    after it), then the whole command, which reuses it; the report, the
    re-runnable stage configs and the exports."""
    images = make_images(tmp_path / 'imgs')
    w = str(tmp_path / 'w')
    cmd = [sys.executable, 'tools/pretrain_own_data.py', '--data', images,
           '--arch', 'tiny', '--work-dir', w, '--quiet']
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    out = run([*cmd, '--stages', 'vqkd'], cwd=REPO, capture_output=True,
              text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    vqkd_ckpt = osp.join(w, 'vqkd', 'epoch_1.pth')
    mtime = os.stat(vqkd_ckpt).st_mtime_ns
    assert not osp.isdir(osp.join(w, 'pretrain'))
    out = run(cmd, cwd=REPO, capture_output=True, text=True, env=env,
              timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert 'vqkd: done before, reused' in out.stdout
    assert os.stat(vqkd_ckpt).st_mtime_ns == mtime
    res = json.load(open(osp.join(w, 'report.json')))
    assert res['num_images'] == NUM_IMAGES
    (epoch, dead), = res['vqkd_dead_codes_per_epoch']  # CodebookUsageHook
    assert epoch == 1 and 0 <= dead <= 64
    for key in ('acc_mim', 'acc_mim_majority'):
        assert res[f'pretrain_{key}'] is not None
    for name in ('codebook_training', 'dead_codes', 'mim_accuracy',
                 'token_maps'):
        with Image.open(res['pictures'][name]) as img:
            assert img.format == 'PNG'
    assert '| MIM accuracy' in open(osp.join(w, 'report.md')).read()
    # mmengine's dump of the pretraining config reruns it as it ran
    config = res['configs']['pretrain']
    again = str(tmp_path / 'again')
    out = run([sys.executable, 'tools/train.py', config, '--work-dir',
               again], cwd=REPO, capture_output=True, text=True, env=env,
              timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert osp.isfile(osp.join(again, 'epoch_1.pth'))
    # the exports give the pretrained backbone's features
    from mmengine.registry import DefaultScope

    from mmbeitv2.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        vit = MODELS.build(Config.fromfile(config).model.backbone)
    state = torch.load(res['export']['mmbeitv2'], weights_only=True)
    vit.load_state_dict({k[len('backbone.'):]: v for k, v in
                         state['state_dict'].items()}, strict=True)
    assert_exports_match(res['export'], vit.eval())
