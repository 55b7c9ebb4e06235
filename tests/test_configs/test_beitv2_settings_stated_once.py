# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every BEiT v2 pretraining config states each setting once: the backbone's
``arch`` (which ``BEiTv2`` also gives the neck and the head) and the neck's
``early_layers`` (from which ``BEiTv2`` derives the backbone's
``out_indices``). The derived values are left out, so a child config that
changes the arch or the aggregation layer changes it everywhere."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = sorted(
    osp.relpath(path, REPO) for pattern in (
        'configs/beitv2/*.py', 'configs/demo/beitv2_*.py',
        'configs/demo/ablations/beitv2_*.py')
    for path in glob.glob(osp.join(REPO, pattern)))


def test_there_are_pretraining_configs():
    assert len(PRETRAIN) >= 10, PRETRAIN


@pytest.mark.parametrize('config', PRETRAIN)
def test_derived_values_left_out(config):
    model = Config.fromfile(osp.join(REPO, config)).model
    assert model.type == 'BEiTv2', config
    assert 'arch' in model.backbone and 'early_layers' in model.neck
    assert 'out_indices' not in model.backbone, config
    assert 'arch' not in model.neck, config
    assert 'embed_dims' not in model.head, config


def test_children_change_the_arch_in_one_place():
    """ViT-L: one backbone arch; the aggregation layer 21 of 24."""
    model = Config.fromfile(
        osp.join(REPO, 'configs/beitv2/'
                 'beitv2_vit-large-p16_64xb32-coslr-300e_in1k.py')).model
    assert model.backbone.arch == 'large'
    assert model.neck.early_layers == 21
    tiny = Config.fromfile(
        osp.join(REPO, 'configs/beitv2/'
                 'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py')).model
    assert tiny.backbone.arch == dict(
        embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
    assert tiny.neck.early_layers == 3
