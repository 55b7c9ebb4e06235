# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/analysis_tools/extract_features.py``: a folder streamed into a
``.npy`` whose rows equal ``mmbeitv2.apis.extract_features``."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_models import random_model_file

from mmbeitv2.apis import extract_features, get_model

ROOT = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = """
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(mean=[127.5] * 3, std=[64.] * 3, to_rgb=True),
    backbone=dict(
        type='BEiTv2ViT',
        arch=dict(embed_dims=16, num_layers=2, num_heads=2,
                  feedforward_channels=32),
        img_size=32, patch_size=8, out_type='avg_featmap'),
    head=dict(type='LinearClsHead', num_classes=3, in_channels=16))
"""


def _tool():
    path = osp.join(ROOT, 'tools', 'analysis_tools', 'extract_features.py')
    spec = importlib.util.spec_from_file_location('extract_features_tool',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def folder(tmp_path):
    cfg = tmp_path / 'tiny.py'
    model = random_model_file(CONFIG, cfg)
    ckpt = str(tmp_path / 'm.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    rng = np.random.default_rng(0)
    imgs = tmp_path / 'imgs'
    (imgs / 'sub').mkdir(parents=True)
    for i in range(7):
        sub = imgs / 'sub' if i % 2 else imgs
        Image.fromarray(rng.integers(0, 255, (36 + i, 40, 3),
                                     dtype=np.uint8)).save(sub / f'{i}.jpg')
    (imgs / 'notes.txt').write_text('not an image')
    return str(cfg), ckpt, str(imgs)


@pytest.mark.parametrize('kind', ['mean', 'layers'])
def test_folder_to_npy(folder, tmp_path, kind):
    cfg, ckpt, imgs = folder
    out = str(tmp_path / 'feats.npy')
    _tool().main([cfg, ckpt, imgs, '--out', out, '--kind', kind,
                  '--batch-size', '3', '--num-workers', '0'])
    feats = np.load(out)
    paths = open(str(tmp_path / 'feats.txt')).read().split()
    assert len(paths) == 7 and paths == sorted(paths)
    expect = extract_features(get_model(cfg, ckpt), paths, kind=kind)
    assert feats.shape == tuple(expect.shape)
    np.testing.assert_allclose(feats, expect.numpy(), atol=1e-5)


def test_empty_folder_is_one_line(tmp_path, capsys):
    from mmbeitv2.cli import run_cli
    (tmp_path / 'empty').mkdir()
    tool = _tool()
    code = run_cli(lambda: tool.main(['c.py', 'x.pth', str(
        tmp_path / 'empty'), '--out', str(tmp_path / 'f.npy')]))
    assert code == 2
    assert 'no images under' in capsys.readouterr().err
