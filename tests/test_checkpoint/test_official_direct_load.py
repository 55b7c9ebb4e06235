# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Official unilm files as downloaded, through ``init_cfg=dict(
type='Pretrained', checkpoint=FILE)``: the layout is detected, converted in
memory, loaded with ``weights_only=True``, and the weights equal the
converter path's, for the tokenizer, the pretraining model and the
fine-tuning backbone."""
import logging
import os.path as osp

import pytest
import torch
from mmengine.logging import MMLogger

from tiny_models import pretrain_parts, vit_arch, vqkd_cfg
from mmbeitv2.checkpoint import (convert_beitv2_pretrain, convert_vqkd,
                                 detect_layout)
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

register_all_modules()
DATA = osp.join(osp.dirname(__file__), '..', 'data', 'official')
ARCH = vit_arch(64, 4)  # the official fixtures' tiny models
VQKD = vqkd_cfg(vit_arch(64, 2), num_embed=64, decoder_out_dims=32)


@pytest.fixture
def log_lines():
    """Messages of mmengine's current logger during the test."""
    lines = []

    class Collect(logging.Handler):

        def emit(self, record):
            lines.append(record.getMessage())

    logger, handler = MMLogger.get_current_instance(), Collect()
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def _official(tmp_path, name: str) -> tuple:
    """An official file as downloaded: tensors under ``model``."""
    state = torch.load(osp.join(DATA, name), weights_only=True)['model']
    path = str(tmp_path / name)
    torch.save({'model': state}, path)
    return path, state


def test_detect_layout(tmp_path):
    _, vq = _official(tmp_path, 'vqkd_tiny.pth')
    _, pt = _official(tmp_path, 'beitv2_pretrain_tiny.pth')
    assert detect_layout(vq) == 'official_vqkd'
    assert detect_layout(pt) == 'official_pretrain'
    ft = {k: v for k, v in pt.items()
          if not k.startswith(('lm_head', 'cls_pt_layers', 'mask_token'))}
    ft['fc_norm.weight'] = torch.ones(64)
    assert detect_layout(ft) == 'official_finetune'
    assert detect_layout(convert_vqkd(vq)[0]) == 'mmbeitv2'
    assert detect_layout(convert_beitv2_pretrain(pt)) == 'mmbeitv2'


def test_tokenizer_loads_official_file(tmp_path):
    path, state = _official(tmp_path, 'vqkd_tiny.pth')
    model = MODELS.build(
        dict(VQKD, init_cfg=dict(type='Pretrained', checkpoint=path)))
    model.init_weights()
    expected, _ = convert_vqkd(state)
    got = model.state_dict()
    # the dead-code counter is ours (not in official files): starts at 0
    assert set(got) == set(expected) | {'quantize.steps_unused'}
    assert not got['quantize.steps_unused'].any()
    for key, value in expected.items():
        assert torch.equal(got[key], value), key
    assert model.quantize.initted


def test_pretraining_model_loads_official_file(tmp_path, checkpoint_safety,
                                               log_lines):
    path, state = _official(tmp_path, 'beitv2_pretrain_tiny.pth')
    model = pretrain_parts(ARCH, early_layers=3, num_embed=64)
    from mmengine.runner.checkpoint import load_checkpoint
    load_checkpoint(model, path, strict=True)
    assert any('detected the official pretrain layout' in line
               for line in log_lines)
    expected = convert_beitv2_pretrain(state)
    got = model.state_dict()
    for key, value in expected.items():
        assert torch.equal(got[key], value), key


def test_finetune_backbone_loads_official_pretraining_file(
        tmp_path, checkpoint_safety):
    path, state = _official(tmp_path, 'beitv2_pretrain_tiny.pth')
    conv_path = str(tmp_path / 'converted.pth')
    torch.save({'state_dict': convert_beitv2_pretrain(state)}, conv_path)

    def build(ckpt):
        vit = MODELS.build(
            dict(type='BEiTv2ViT', arch=ARCH, img_size=32, patch_size=8,
                 use_shared_rel_pos_bias=False, use_rel_pos_bias=True,
                 out_type='avg_featmap', init_style='finetune',
                 init_cfg=dict(type='Pretrained', checkpoint=ckpt,
                               prefix='backbone.')))
        vit.init_weights()
        return vit.state_dict()

    direct, converted = build(path), build(conv_path)
    assert set(direct) == set(converted)
    for key in direct:
        if key.startswith('ln2.'):
            continue  # the fresh fc_norm, not in the file
        assert torch.equal(direct[key], converted[key]), key
    # the shared table went into every block
    assert torch.equal(
        direct['layers.3.attn.relative_position_bias_table'],
        state['rel_pos_bias.relative_position_bias_table'])
