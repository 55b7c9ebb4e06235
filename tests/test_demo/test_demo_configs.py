# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every configs/demo/ config builds its model, and one training step's
loss on a 32 px batch is finite; the values that must agree across stages
do."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', 'demo', '*.py')))


def _build(cfg):
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules()
    model = cfg.model
    model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    for key in ('teacher', ):
        if model.get(key):  # no weight file needed for a shape test
            model[key]['pretrained'] = False
    if model.get('backbone', {}).get('type') == 'TeacherBackbone':
        model['backbone']['teacher']['pretrained'] = False
    if model.get('target_generator'):
        model['target_generator']['init_cfg'] = None
    if model.get('backbone', {}).get('init_cfg'):
        model['backbone']['init_cfg'] = None
    return MODELS.build(model)


def _samples(n, with_mask=False, with_view_id=False):
    from mmpretrain.structures import DataSample
    out = []
    for i in range(n):
        ds = DataSample().set_gt_label(i % 10)
        if with_view_id:  # FixedViews + PackInputs(algorithm_keys=...)
            ds.set_field(i, 'view_id')
        if with_mask:
            mask = torch.zeros(8, 8, dtype=torch.bool)
            mask[:3, :5] = True
            ds.set_mask(mask)
        out.append(ds)
    return out


@pytest.mark.parametrize('config', CONFIGS)
def test_demo_config_builds_and_steps(config):
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(REPO, config))
    assert cfg.default_scope == 'mmbeitv2'
    model = _build(cfg)
    model.init_weights()
    model.train()
    x = torch.rand(4, 3, 32, 32) * 255
    if cfg.model.type == 'BEiTv2':
        data = model.data_preprocessor(
            dict(inputs=[x, x], data_samples=_samples(4, True)), True)
    else:  # a batch as default_collate (tools/train.py) gives it
        samples = _samples(
            4, with_view_id=(cfg.model.get('teacher') or {}).get('cache'))
        data = model.data_preprocessor(
            dict(inputs=x, data_samples=samples), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total) and total.item() > 0


@pytest.mark.parametrize('data,probe_config', [
    ('shapes10', 'vit-4x128-p4_linear-probe_demo_shapes10.py'),
    ('cifar10-subset', 'vit-4x128-p4_linear-probe_cifar10.py'),
])
def test_values_that_must_agree(data, probe_config):
    load = lambda name: Config.fromfile(  # noqa: E731
        osp.join(REPO, 'configs', 'demo', name))
    vqkd = load(f'vqkd_demo_{data}.py')
    pre = load(f'beitv2_demo_{data}.py')
    probe = load(probe_config)
    tok = pre.model.target_generator
    # the pretraining target generator is the trained tokenizer
    for key in ('encoder', 'decoder', 'decoder_out_dims'):
        assert tok[key] == vqkd.model[key], key
    for key in ('num_embed', 'embed_dims'):
        assert tok.quantizer[key] == vqkd.model.quantizer[key], key
    assert pre.model.head.num_embed == vqkd.model.quantizer.num_embed
    # the config's own default tokenizer file is this VQ-KD run's last one
    assert pre.model.target_generator.init_cfg.checkpoint == \
        f'{vqkd.work_dir[2:]}/epoch_{vqkd.train_cfg.max_epochs}.pth'
    # the probe backbone is the pretrained one
    for key in ('arch', 'img_size', 'patch_size'):
        assert probe.model.backbone[key] == pre.model.backbone[key], key
    assert probe.model.head.in_channels == pre.model.backbone.arch[
        'embed_dims']
    assert probe.model.backbone.frozen
    cifar = load('vit-4x128-p4_finetune_cifar10.py')
    assert cifar.model.backbone.arch == pre.model.backbone.arch
