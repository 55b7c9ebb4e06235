# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""tools/analysis_tools/seg_overlay.py: overlay colours and an end-to-end
run on a tiny UperNet + BEiTv2ViT checkpoint and two JPEGs."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'seg_overlay.py')
CONFIG = osp.join(ROOT, 'configs', 'beitv2', 'benchmarks',
                  'upernet_vit-6x128-p8_beitv2-pre_1xb4-1k_camvid-128x128.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('seg_overlay', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_colorize():
    tool = load_tool()
    img = np.full((2, 2, 3), 100, dtype=np.uint8)
    label = np.array([[0, 1], [255, 1]])
    palette = np.array([[200, 0, 0], [0, 200, 0]], dtype=np.uint8)
    out = tool.colorize(img, label, palette, opacity=0.5)
    np.testing.assert_array_equal(out[0, 0], [150, 50, 50])
    np.testing.assert_array_equal(out[0, 1], [50, 150, 50])
    np.testing.assert_array_equal(out[1, 0], [100, 100, 100])  # ignore


@pytest.mark.integration
def test_overlay_tool_end_to_end(tmp_path):
    pytest.importorskip('mmseg')
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    tool = load_tool()
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.update(
        arch=dict(
            embed_dims=32, num_layers=4, num_heads=2,
            feedforward_channels=64),
        img_size=32,
        out_indices=[0, 1, 2, 3])
    cfg.model.neck.embed_dim = 32
    cfg.model.decode_head.update(in_channels=[32] * 4, channels=16)
    cfg.model.auxiliary_head.update(in_channels=32, channels=8)
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.model.test_cfg = dict(mode='slide', crop_size=(32, 32),
                              stride=(21, 21))
    cfg.test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='PackSegInputs')
    ]
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'seg.pth')
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': dict(cfg.metainfo)
            }
        }, ckpt)
    img_dir, ann_dir = tmp_path / 'img', tmp_path / 'ann'
    img_dir.mkdir()
    ann_dir.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), np.uint8)).save(
            img_dir / f'{i}.jpg')
    Image.fromarray(np.full((40, 48), 3, np.uint8)).save(ann_dir / '0.png')
    out = tmp_path / 'out'
    tool.main([
        cfg_path, ckpt, '--out-dir',
        str(out), '--img-dir',
        str(img_dir), '--ann-dir',
        str(ann_dir), '--num', '5'
    ])
    with_gt = np.array(Image.open(out / '0_overlay.png'))
    without_gt = np.array(Image.open(out / '1_overlay.png'))
    assert with_gt.shape == (40, 3 * 48, 3)  # image | pred | gt
    assert without_gt.shape == (40, 2 * 48, 3)
    # the left panel is the image itself (JPEG-decoded)
    src = np.array(Image.open(img_dir / '0.jpg').convert('RGB'))
    np.testing.assert_array_equal(with_gt[:, :48], src)
