# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""DINOv2, SigLIP, EVA02-CLIP and CLIP-L/14 teachers, random weights only.

Fast tests build small towers of each family through the teachers' own
arguments (open_clip ``model_cfg``, timm ``model_kwargs``); the integration
tests build the real named tower of each config once (random weights,
small inputs).
"""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmbeitv2.errors import UserInputError
from mmbeitv2.utils import register_all_modules

open_clip = pytest.importorskip('open_clip')
timm = pytest.importorskip('timm')

CFG_DIR = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'vqkd')
CONFIGS = {
    'dinov2': 'vqkd_vit-base-p16_3x768x12-dinov2-b14_8xb64-100e_in1k.py',
    'siglip': 'vqkd_vit-base-p16_3x768x12-siglip-b16_8xb64-100e_in1k.py',
    'eva02': 'vqkd_vit-base-p16_3x768x12-eva02-clip-b16_8xb64-100e_in1k.py',
    'clip_l': 'vqkd_vit-base-p16_3x768x12-clip-l14_8xb64-100e_in1k.py',
}
TEXT = dict(context_length=8, vocab_size=100, width=32, heads=2, layers=1)
# Small towers of each family, built by the teachers' own arguments.
SMALL = {
    # timm's DINOv2 ViT-B/14 class and weights layout, one block
    'dinov2': dict(pretrained=False, input_size=70,
                   model_kwargs=dict(depth=1)),
    # a timm trunk with the SigLIP head (MAP attention pool, no proj)
    'siglip': dict(pretrained=None, model_cfg=dict(
        embed_dim=96, text_cfg=TEXT, vision_cfg=dict(
            image_size=32, timm_model_name='test_vit3', timm_pool='map',
            timm_proj='none'))),
    # a timm trunk whose own head is the projection (as EVA02-B-16's)
    'eva02': dict(pretrained=None, model_cfg=dict(
        embed_dim=24, text_cfg=TEXT, vision_cfg=dict(
            image_size=32, timm_model_name='test_vit', timm_pool='token',
            timm_proj=None))),
    # a native open_clip ViT with patch 14, like ViT-L-14
    'clip_l': dict(pretrained=None, model_cfg=dict(
        embed_dim=24, text_cfg=TEXT, vision_cfg=dict(
            image_size=56, layers=1, width=64, head_width=32,
            patch_size=14))),
}
# The real named towers at small inputs (random weights).
REAL = {
    'dinov2': dict(pretrained=False, input_size=28),
    'siglip': dict(pretrained=None, input_size=32),
    'eva02': dict(pretrained=None, input_size=32),
    'clip_l': dict(pretrained=None, input_size=28),
}
# The model's own mean/std, from the libraries' pretrained configs.
OWN_MEAN_STD = {
    'dinov2': lambda: _timm_cfg('vit_base_patch14_dinov2.lvd142m'),
    'siglip': lambda: _clip_cfg('ViT-B-16-SigLIP', 'webli'),
    'eva02': lambda: _clip_cfg('EVA02-B-16', 'merged2b_s8b_b131k'),
    'clip_l': lambda: _clip_cfg('ViT-L-14', 'openai'),
}
TINY = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)


def _timm_cfg(name):
    cfg = timm.models.get_pretrained_cfg(name)
    return cfg.mean, cfg.std


def _clip_cfg(name, tag):
    cfg = open_clip.get_pretrained_cfg(name, tag)
    return cfg['mean'], cfg['std']


def _config(family, teacher_overrides):
    """The family's VQ-KD config, tokenizer shrunk to 32 px / patch 8
    (4x4 grid), teacher kept with test-only overrides."""
    cfg = Config.fromfile(osp.join(CFG_DIR, CONFIGS[family]))
    cfg.model.encoder = dict(arch=TINY, img_size=32, patch_size=8)
    cfg.model.decoder = dict(
        arch=TINY, img_size=4, patch_size=1, in_channels=8)
    cfg.model.quantizer = dict(num_embed=16, embed_dims=8)
    cfg.model.teacher.update(teacher_overrides)
    return cfg


def _build_tokenizer(cfg, decoder_out_dims):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.decoder_out_dims = decoder_out_dims
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def _check_teacher(teacher, family, grid=(4, 4)):
    """(B, C, h, w) on the grid, own mean/std, frozen."""
    mean, std = OWN_MEAN_STD[family]()
    torch.testing.assert_close(teacher.mean.flatten(), torch.tensor(mean))
    torch.testing.assert_close(teacher.std.flatten(), torch.tensor(std))
    assert all(not p.requires_grad for p in teacher.parameters())
    teacher.train()
    assert not any(m.training for m in teacher.modules())
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    feat = teacher.feature_map(x, grid)
    assert feat.shape == (2, teacher.out_channels, *grid)
    assert not feat.requires_grad and torch.isfinite(feat).all()
    return x, feat


def _train_two_iters(cfg, model):
    """Two train_step calls through the config's data preprocessor and
    optimizer; the teacher is in neither the optimizer nor the state dict
    and does not change."""
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    teacher = model.teacher
    in_optim = {id(p) for g in optim.optimizer.param_groups
                for p in g['params']}
    assert not in_optim & {id(p) for p in teacher.parameters()}
    assert not any('teacher' in k for k in model.state_dict())
    # first and last teacher tensors (a full copy of a ViT-L is 1.2 GB)
    params = list(teacher.parameters())
    before = [params[0].clone(), params[-1].clone()]
    w = model.encoder.layers[0].attn.qkv.weight.clone()
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(2):
        data = dict(
            inputs=[torch.randint(0, 256, (2, 3, 32, 32), generator=g,
                                  dtype=torch.uint8)],
            data_samples=None)
        log = model.train_step(data, optim)
        assert torch.isfinite(log['loss'])
        assert 0.3 < log['loss_rec'].item() < 1.7
    assert not teacher.training
    assert not torch.equal(model.encoder.layers[0].attn.qkv.weight, w)
    assert torch.equal(before[0], params[0])
    assert torch.equal(before[1], params[-1])


@pytest.mark.parametrize('family', list(CONFIGS))
def test_family_small_tower_from_config_trains(family):
    cfg = _config(family, SMALL[family])
    register_all_modules()
    from mmbeitv2.registry import MODELS
    teacher = MODELS.build(copy.deepcopy(cfg.model.teacher))
    x, feat = _check_teacher(teacher, family)
    tokens = teacher(x, (4, 4))  # (B, 16, C) targets
    torch.testing.assert_close(tokens, feat.flatten(2).transpose(1, 2))
    model = _build_tokenizer(cfg, teacher.out_channels)
    _train_two_iters(cfg, model)


@pytest.mark.integration  # the real B/L towers: 7-15 s each to build
@pytest.mark.parametrize('family', list(CONFIGS))
def test_family_real_named_tower_from_config(family):
    cfg = _config(family, REAL[family])
    model = _build_tokenizer(cfg, cfg.model.decoder_out_dims)
    teacher = model.teacher
    assert teacher.out_channels == cfg.model.decoder_out_dims
    _check_teacher(teacher, family)
    _train_two_iters(cfg, model)


def test_siglip_projection_is_the_pool_head():
    # SigLIP pools with an attention head and has no [CLS] token.
    from mmbeitv2.models.tokenizers import CLIPTeacher
    kw = dict(SMALL['siglip'], model_name='ViT-B-16-SigLIP')
    with pytest.raises(UserInputError, match="projection='none'"):
        CLIPTeacher(projection='proj', **kw)
    teacher = CLIPTeacher(projection='none', **kw)
    assert teacher.visual.preprocess_cfg['mean'] == (0.5, 0.5, 0.5)
    x = torch.rand(2, 3, 32, 32)
    trunk = teacher.visual.trunk
    with torch.no_grad():
        ref = trunk.forward_features((x - 0.5) / 0.5)
    ref = ref[:, trunk.num_prefix_tokens:]  # (B, 4, 96)
    torch.testing.assert_close(teacher(x, (2, 2)), ref)


def test_eva_like_per_token_projection_is_the_trunk_head():
    from mmbeitv2.models.tokenizers import CLIPTeacher
    teacher = CLIPTeacher(model_name='EVA02-B-16', **SMALL['eva02'])
    trunk = teacher.visual.trunk
    assert isinstance(trunk.head, torch.nn.Linear)
    assert teacher.out_channels == 24
    x = torch.rand(2, 3, 32, 32)
    xn = (x - teacher.mean) / teacher.std
    with torch.no_grad():
        ref = trunk.head(trunk.forward_features(xn)[:, 1:])
        # the CLS row of the same computation is open_clip's image feature
        pooled = teacher.visual(xn)
        cls = trunk.head(trunk.forward_features(xn)[:, 0])
    torch.testing.assert_close(pooled, cls)
    torch.testing.assert_close(teacher(x, (2, 2)), ref)


def test_timm_eva02_rope_tower_projection():
    # timm's Eva class with RoPE (EVA02-B-16's trunk), one block.
    from mmbeitv2.models.tokenizers import TimmViTTeacher
    teacher = TimmViTTeacher(
        'eva02_base_patch16_clip_224', pretrained=False, input_size=32,
        projection='proj', model_kwargs=dict(depth=1))
    assert teacher.out_channels == 512
    feat = teacher.feature_map(torch.rand(2, 3, 32, 32), (4, 4))
    assert feat.shape == (2, 512, 4, 4)


def test_paper_clip_path_is_bit_identical():
    # The paper path (grids agree, proj) computes exactly what it did
    # before the teachers were generalised.
    from mmbeitv2.models.tokenizers import CLIPTeacher
    torch.manual_seed(0)
    cfg = dict(embed_dim=16, text_cfg=TEXT, vision_cfg=dict(
        image_size=32, layers=1, width=64, head_width=32, patch_size=16))
    teacher = CLIPTeacher(model_cfg=cfg, pretrained=None)
    assert teacher.input_size == 32 and teacher.out_channels == 16
    x = torch.rand(2, 3, 32, 32)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    v = teacher.visual
    with torch.no_grad():
        t = v.transformer(v._embeds((x.clamp(0, 1) - mean) / std))
        t = v.ln_post(t)[:, 1:] @ v.proj  # (B, 4, 16)
    assert torch.equal(teacher(x, (2, 2)), t)


@pytest.mark.parametrize('family', ['dinov2', 'clip_l'])
def test_grid_align_modes(family):
    # /14 teachers under a /8 tokenizer at 4x4: 'interpolate' resamples
    # the teacher's own map; 'resize_input' feeds grid * 14 px and
    # resamples the position embedding once, nothing interpolated.
    cfg = _config(family, SMALL[family])
    register_all_modules()
    from mmbeitv2.registry import MODELS
    teacher = MODELS.build(copy.deepcopy(cfg.model.teacher))
    x = torch.rand(2, 3, 32, 32)
    native = teacher.input_size
    native = native[0] if isinstance(native, tuple) else native
    own = teacher.extract(teacher.normalize(teacher.resize_input(x)))
    assert own.shape[-2:] == (native // 14, ) * 2 != (3, 3)
    ref = F.interpolate(own, size=(3, 3), mode='bilinear',
                        align_corners=False, antialias=True)
    torch.testing.assert_close(teacher.feature_map(x, (3, 3)), ref)
    teacher.grid_align = 'resize_input'
    feat = teacher.feature_map(x, (3, 3))
    assert tuple(teacher.input_size) == (42, 42) and feat.shape[-2:] == (3, 3)
    resized = F.interpolate(x, size=(42, 42), mode='bicubic',
                            align_corners=False)
    torch.testing.assert_close(
        feat, teacher.extract(teacher.normalize(resized)))


def test_decoder_width_must_match_teacher():
    cfg = _config('dinov2', SMALL['dinov2'])
    with pytest.raises(UserInputError, match='decoder_out_dims=768'):
        _build_tokenizer(cfg, 512)


def _offline(monkeypatch, tmp_path):
    hub = pytest.importorskip('huggingface_hub')
    monkeypatch.setattr(hub.constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')  # never reach the network
    monkeypatch.setattr(hub.constants, 'HF_HUB_CACHE', str(tmp_path))


def test_timm_weights_offline_error_and_local_file(monkeypatch, tmp_path):
    from mmbeitv2.models.tokenizers import TimmViTTeacher
    _offline(monkeypatch, tmp_path)
    kw = dict(input_size=28, model_kwargs=dict(depth=1))
    name = 'vit_small_patch14_dinov2.lvd142m'
    with pytest.raises(UserInputError) as err:
        TimmViTTeacher(name, pretrained=True, **kw)
    msg = str(err.value)
    assert '\n' not in msg and name in msg and "pretrained='/" in msg
    # a local file (same layout as the hub's) loads without network
    torch.manual_seed(0)
    src = timm.create_model(name, pretrained=False, num_classes=0,
                            img_size=28, depth=1)
    path = str(tmp_path / 'dinov2_small.pth')
    torch.save(src.state_dict(), path)
    teacher = TimmViTTeacher(name, pretrained=path, **kw)
    for k, v in src.state_dict().items():
        assert torch.equal(teacher.model.state_dict()[k], v), k
    with pytest.raises(UserInputError, match='not found'):
        TimmViTTeacher(name, pretrained=str(tmp_path / 'missing.pth'), **kw)


def test_open_clip_weights_offline_error(monkeypatch, tmp_path):
    from mmbeitv2.models.tokenizers import CLIPTeacher
    _offline(monkeypatch, tmp_path)
    for pretrained in ('webli', str(tmp_path / 'missing.bin')):
        with pytest.raises(UserInputError) as err:
            CLIPTeacher('ViT-B-16-SigLIP', pretrained=pretrained)
        msg = str(err.value)
        assert '\n' not in msg and 'ViT-B-16-SigLIP' in msg
        assert "pretrained='/path/to/" in msg
    with pytest.raises(UserInputError, match='unknown open_clip model'):
        CLIPTeacher('ViT-B-17', pretrained=None)


def test_dinov2_registers_are_dropped():
    from mmbeitv2.models.tokenizers import TimmViTTeacher
    teacher = TimmViTTeacher(
        'vit_small_patch14_reg4_dinov2', pretrained=False, input_size=28,
        model_kwargs=dict(depth=1))
    m = teacher.model
    assert m.num_prefix_tokens == 5  # [CLS] + 4 registers
    x = torch.rand(2, 3, 28, 28)
    with torch.no_grad():
        ref = m.forward_features((x - teacher.mean) / teacher.std)[:, 5:]
    torch.testing.assert_close(teacher(x, (2, 2)), ref)  # (B, 4, 384)


def test_open_clip_local_weights_file(monkeypatch, tmp_path):
    """``CLIPTeacher(name, pretrained='/path/file.bin')`` loads the image
    tower from a local open_clip file without the network: a small model
    config registered with open_clip (as a user's own config would be),
    its weights saved by open_clip's model and read back."""
    import json

    import open_clip
    from open_clip import factory

    from mmbeitv2.models.tokenizers import CLIPTeacher
    _offline(monkeypatch, tmp_path)
    name = 'mmbeitv2-test-tiny-clip'
    cfg_dir = tmp_path / 'cfgs'
    cfg_dir.mkdir()
    (cfg_dir / f'{name}.json').write_text(json.dumps(dict(
        embed_dim=16, text_cfg=TEXT, vision_cfg=dict(
            image_size=32, layers=1, width=64, head_width=32,
            patch_size=16))))
    open_clip.add_model_config(str(cfg_dir))
    try:
        torch.manual_seed(0)
        src = open_clip.create_model(name, pretrained=None)
        path = str(tmp_path / 'open_clip_pytorch_model.bin')
        torch.save(src.state_dict(), path)
        torch.manual_seed(1)  # a fresh build would have other weights
        teacher = CLIPTeacher(name, pretrained=path)
        for k, v in src.visual.state_dict().items():
            assert torch.equal(teacher.visual.state_dict()[k], v), k
        random = CLIPTeacher(name, pretrained=None)
        assert not torch.equal(random.visual.proj, teacher.visual.proj)
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            assert teacher(x, (2, 2)).shape == (2, 4, 16)
        # a file of another model: one line naming the file and the fix
        other = str(tmp_path / 'other.bin')
        torch.save({'visual.proj': torch.zeros(3, 3)}, other)
        with pytest.raises(UserInputError) as err:
            CLIPTeacher(name, pretrained=other)
        assert '\n' not in str(err.value) and 'other.bin' in str(err.value)
    finally:
        factory._MODEL_CONFIGS.pop(name, None)
