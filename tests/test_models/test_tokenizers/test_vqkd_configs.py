# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os.path as osp

import pytest
from mmengine.config import Config

from mmbeitv2.utils import register_all_modules

CFG_DIR = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'vqkd')
PAPER = 'vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'


def _build(name, **overrides):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    model_cfg = cfg.model.copy()
    model_cfg.update(overrides)
    return cfg, MODELS.build(model_cfg)


def _count(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.integration  # builds a full ViT-B encoder + 3-layer decoder
def test_paper_config_parameter_count_and_recipe():
    # Tokens-only build: no CLIP download.
    cfg, model = _build(PAPER, teacher=None)
    # spec §1.1: 108,829,216 learnable parameters for 3x768x12_clip.
    assert _count(model) == 108_829_216
    assert _count(model.encoder) + _count(model.encoder_norm) == 85_789_440
    assert model.quantize.embedding.weight.shape == (8192, 32)
    opt = cfg.optim_wrapper.optimizer
    assert opt.lr == pytest.approx(2e-4) and opt.betas == (0.9, 0.99)
    assert opt.weight_decay == 1e-4
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.param_scheduler[0].end == 10  # warmup epochs
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.model.teacher.type == 'CLIPTeacher'


def test_variants_inherit():
    cfg1 = Config.fromfile(
        osp.join(CFG_DIR,
                 'vqkd_vit-base-p16_1x768x12-clip-b16_8xb64-100e_in1k.py'))
    assert cfg1.model.decoder.arch.num_layers == 1
    assert cfg1.model.teacher.type == 'CLIPTeacher'
    cfg2 = Config.fromfile(
        osp.join(CFG_DIR,
                 'vqkd_vit-base-p16_1x768x12-dino-b16_8xb64-100e_in1k.py'))
    assert cfg2.model.teacher.type == 'TimmViTTeacher'
    assert cfg2.model.decoder_out_dims == 768
    assert 'pretrained' in cfg2.model.teacher
    assert cfg2.optim_wrapper.optimizer.lr == pytest.approx(2e-4)


def test_cifar_config_builds_offline():
    cfg, model = _build(
        'vqkd_vit-4x128-p4_1x128x4-effnet-lite0_1xb64-5e_cifar10.py',
        teacher=dict(
            type='EfficientNetLite0Teacher', input_size=128,
            pretrained=False))
    assert model.encoder.patch_resolution == (8, 8)
    assert model.quantize.num_tokens == 1024
    assert model.quantize.dead_code_threshold > 0
    assert cfg.model.teacher.type == 'EfficientNetLite0Teacher'
    assert cfg.val_evaluator.num_embed == 1024
