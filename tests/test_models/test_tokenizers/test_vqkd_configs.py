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
    # docs/official.md §1.1: 108,829,216 learnable parameters for
    # 3x768x12_clip.
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


def test_pretraining_tokenizer_swaps_with_vqkd_config(tmp_path):
    # The pretraining configs' target_generator takes a trained tokenizer's
    # architecture from its VQ-KD config (one field); the paper configs
    # keep their tokenizer (vqkd_config=None).
    import torch
    register_all_modules()
    from mmbeitv2.registry import MODELS
    pre = Config.fromfile(
        osp.join(CFG_DIR, '..', 'beitv2',
                 'beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py'))
    assert pre.model.target_generator.vqkd_config is None
    assert pre.model.target_generator.decoder_out_dims == 512
    # A DINOv2-teacher tokenizer config, shrunk for the test.
    dinov2 = osp.abspath(osp.join(
        CFG_DIR, 'vqkd_vit-base-p16_3x768x12-dinov2-b14_8xb64-100e_in1k.py'))
    small = tmp_path / 'vqkd_small_dinov2.py'
    small.write_text(
        f'_base_ = {dinov2!r}\n'
        'arch = dict(embed_dims=32, num_layers=1, num_heads=2, '
        'feedforward_channels=64)\n'
        'model = dict(encoder=dict(_delete_=True, arch=arch, img_size=32, '
        'patch_size=8), '
        'decoder=dict(arch=arch, img_size=4, in_channels=8), '
        'quantizer=dict(num_embed=16, embed_dims=8))\n')
    trained = MODELS.build(dict(Config.fromfile(str(small)).model,
                                teacher=None))
    trained.init_weights()
    # a trained codebook: l2-normalised random codes (the k-means init's
    # zeros would give id 0 to every patch, whatever the weights)
    codes = torch.nn.functional.normalize(torch.randn(16, 8), dim=-1)
    trained.quantize.embedding.weight.copy_(codes)
    trained.quantize.embedding.initted.fill_(1)
    path = str(tmp_path / 'tokenizer.pth')
    torch.save(trained.state_dict(), path)
    tg = dict(pre.model.target_generator, vqkd_config=str(small))
    tg['init_cfg'] = dict(type='Pretrained', checkpoint=path)
    tokenizer = MODELS.build(tg)
    tokenizer.init_weights()  # strict load
    assert tokenizer.decode_task_layer[-1].out_features == 768
    assert tokenizer.num_patches == 16
    x = torch.rand(2, 3, 32, 32)
    ids = trained.get_tokens(x)
    assert len(ids.unique()) >= 4
    assert torch.equal(tokenizer.get_tokens(x), ids)
    with pytest.raises(Exception, match='vqkd_config .* not found'):
        MODELS.build(dict(tg, vqkd_config=str(tmp_path / 'nope.py')))
