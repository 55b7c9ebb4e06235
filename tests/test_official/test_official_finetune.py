# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Fine-tuning parity with the official BEiT v2 code
(tests/data/official/README.md, ``finetune_tiny.pth``): the official
pretraining checkpoint, converted and loaded the way users load it
(``init_cfg=dict(type='Pretrained', prefix='backbone.')`` in the ImageNet
fine-tune config), gives the official pooled features at 32 px and, after the
7x7 -> 11x11 table resize, at 48 px. """
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules
from mmbeitv2.checkpoint import convert_beitv2_pretrain

DATA = osp.join(osp.dirname(__file__), '..', 'data', 'official')
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'beitv2', 'benchmarks',
    'vit-base-p16_beitv2-1600e-pre_8xb128-coslr-100e_in1k.py')
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
TOL = 1e-5

pytestmark = pytest.mark.official


def _fixture(name: str) -> dict:
    path = osp.join(DATA, name)
    if not osp.exists(path):
        pytest.skip(f'{path} is missing')
    return torch.load(path, weights_only=True)


@pytest.fixture(scope='module')
def converted_ckpt(tmp_path_factory) -> str:
    """The official tiny pretraining checkpoint in the mmbeitv2 layout."""
    official = _fixture('beitv2_pretrain_tiny.pth')['model']
    path = tmp_path_factory.mktemp('ckpt') / 'beitv2_pretrain_tiny_mm.pth'
    torch.save({'state_dict': convert_beitv2_pretrain(official)}, path)
    return str(path)


def _build_classifier(checkpoint: str, img_size: int) -> torch.nn.Module:
    """The fine-tune config with the tiny arch of the fixture (width 64,
    depth 4, heads 2, patch 8), built and initialised as the runner does."""
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.update(
        arch=dict(
            embed_dims=64,
            num_layers=4,
            num_heads=2,
            feedforward_channels=256),
        img_size=img_size,
        patch_size=8,
        drop_path_rate=0.)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    cfg.model.head.update(in_channels=64, num_classes=10)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('size', [32, 48])
def test_finetune_features_match_official(converted_ckpt, size):
    ref = _fixture('finetune_tiny.pth')
    model = _build_classifier(converted_ckpt, size)
    images = (ref[f'images01_{size}'] - MEAN) / STD
    with torch.no_grad():
        feats = model.extract_feat(images)[-1]  # (B, C)
    diff = (feats - ref[f'features_{size}']).abs().max().item()
    print(f'features_{size}: max |diff| = {diff:.3e}')
    assert feats.shape == ref[f'features_{size}'].shape
    assert diff < TOL


def test_resized_table_matches_official(converted_ckpt):
    ref = _fixture('finetune_tiny.pth')['rel_pos_table_48_block0']
    model = _build_classifier(converted_ckpt, 48)
    tables = [
        layer.attn.relative_position_bias_table
        for layer in model.backbone.layers
    ]
    diff = (tables[0] - ref).abs().max().item()
    print(f'rel_pos_table_48_block0: max |diff| = {diff:.3e}')
    assert tables[0].shape == (124, 2)
    assert diff < TOL
    # Every block got the same (shared) table (docs/official.md §3.2.3).
    for table in tables[1:]:
        torch.testing.assert_close(table, tables[0], rtol=0, atol=0)
