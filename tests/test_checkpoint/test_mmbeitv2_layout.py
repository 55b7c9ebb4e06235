# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Which kind of mmbeitv2 checkpoint a file is, and the ``BEiTv2ViT``
settings read off its shapes."""
import pytest
import torch

from mmbeitv2.checkpoint.mmbeitv2_layout import (infer_settings,
                                                 read_checkpoint,
                                                 split_checkpoint)
from mmbeitv2.errors import CheckpointLoadError, UserInputError
from ._models import FINETUNE, PRETRAIN, TINY, backbone, classifier


def test_kinds():
    vit = backbone(**PRETRAIN)
    bare = vit.state_dict()
    pre = {'backbone.' + k: v for k, v in bare.items()}
    parts = split_checkpoint(dict(pre, **{'neck.norm.weight': 0}))
    assert parts['kind'] == 'pretrain' and parts['head'] is None
    assert 'mask_token' not in parts['backbone']
    assert split_checkpoint(bare)['kind'] == 'backbone'
    model = classifier()
    parts = split_checkpoint(model.state_dict())
    assert parts['kind'] == 'classifier'
    assert parts['head']['weight'].shape == (5, 32)
    # a linear probe's BN neck has no place outside: backbone only
    probe = dict(model.state_dict(), **{'neck.bn.weight': torch.ones(32)})
    parts = split_checkpoint(probe)
    assert parts['head'] is None and parts['dropped']
    with pytest.raises(UserInputError, match='not an mmbeitv2 checkpoint'):
        split_checkpoint({'blocks.0.norm1.weight': torch.ones(1)}, 'x.pth')


def test_settings():
    s = infer_settings(backbone(**PRETRAIN).state_dict())
    assert s['arch'] == TINY and s['img_size'] == 32
    assert s['patch_size'] == 8 and s['use_shared_rel_pos_bias']
    assert not s['use_rel_pos_bias'] and s['layer_scale_init_value'] == 0.1
    s = infer_settings(
        backbone(**dict(FINETUNE, layer_scale_init_value=0.,
                        final_norm=True), img_size=48).state_dict())
    assert s['use_rel_pos_bias'] and s['img_size'] == 48
    assert s['out_type'] == 'avg_featmap' and s['final_norm']
    assert s['layer_scale_init_value'] == 0.


def test_unreadable_file_is_one_line(tmp_path):
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointLoadError, match='not a readable'):
        read_checkpoint(str(bad))
