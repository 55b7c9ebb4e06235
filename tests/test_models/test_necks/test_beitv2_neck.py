# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math

import pytest
import torch

from mmbeitv2.models.utils import with_cls_index
from mmbeitv2.models.necks import BEiTv2Neck
from mmbeitv2.models.utils import RelativePositionBias

ARCH = dict(embed_dims=64, num_layers=4, num_heads=2, feedforward_channels=128)


def _neck(**kwargs):
    torch.manual_seed(0)
    neck = BEiTv2Neck(arch=ARCH, early_layers=3, **kwargs)
    neck.init_weights()
    return neck.eval()


def _inputs(b=2, n=16, c=64):
    torch.manual_seed(1)
    return torch.randn(b, 1 + n, c), torch.randn(b, 1 + n, c)


def _bias():
    bias = RelativePositionBias((4, 4), 2)
    torch.nn.init.normal_(bias.relative_position_bias_table, std=0.5)
    return bias().detach()


def test_shapes_and_shared_norm():
    neck = _neck()
    early, final = _inputs()
    feats, feats_agg = neck((early, final), _bias())
    assert feats.shape == feats_agg.shape == (2, 16, 64)
    # the final branch is the shared norm of the final patch tokens
    torch.testing.assert_close(feats, neck.norm(final)[:, 1:])
    assert len(neck.patch_aggregation) == 2
    names = {k for k, _ in neck.named_parameters()}
    assert 'norm.weight' in names
    assert 'patch_aggregation.1.ffn.layers.1.weight' in names
    assert 'patch_aggregation.0.gamma_1' in names


def test_aggregation_sees_final_cls_and_early_patches():
    neck = _neck()
    early, final = _inputs()
    bias = _bias()
    with torch.no_grad():
        ref, ref_agg = neck((early, final), bias)

        def run(e, f):
            return neck((e, f), bias)

        # early patch tokens -> only the aggregation branch changes
        e = early.clone()
        e[:, 5] += torch.randn(64)  # not a constant: LN removes those
        feats, agg = run(e, final)
        torch.testing.assert_close(feats, ref, rtol=0, atol=0)
        assert (agg - ref_agg).abs().max() > 1e-3
        # final [CLS] -> the aggregation branch changes; the final branch's
        # patch tokens do not (per-token norm, [CLS] dropped)
        f = final.clone()
        f[:, 0] += torch.randn(64)
        feats, agg = run(early, f)
        torch.testing.assert_close(feats, ref, rtol=0, atol=0)
        assert (agg - ref_agg).abs().max() > 1e-3
        # final patch tokens -> only the final branch changes
        f = final.clone()
        f[:, 1:] += torch.randn_like(f[:, 1:])
        feats, agg = run(early, f)
        torch.testing.assert_close(agg, ref_agg, rtol=0, atol=0)
        assert (feats - ref).abs().max() > 1e-3
        # early [CLS] is never used
        e = early.clone()
        e[:, 0] += 5 * torch.randn(64)
        feats, agg = run(e, final)
        torch.testing.assert_close(feats, ref, rtol=0, atol=0)
        torch.testing.assert_close(agg, ref_agg, rtol=0, atol=0)
        # the shared bias reaches the aggregation blocks
        _, agg = neck((early, final), bias * 0)
        assert (agg - ref_agg).abs().max() > 1e-4


def test_official_init():
    """PyTorch default Linear init (non-zero uniform biases) + rescale by
    sqrt(2 * (early_layers + i + 1)) (docs/official.md §2.2)."""
    torch.manual_seed(0)
    raw = BEiTv2Neck(arch=ARCH, early_layers=3)
    torch.manual_seed(0)
    neck = BEiTv2Neck(arch=ARCH, early_layers=3)
    neck.init_weights()
    for i in range(2):
        scale = math.sqrt(2 * (3 + i + 1))
        a, b = raw.patch_aggregation[i], neck.patch_aggregation[i]
        torch.testing.assert_close(b.attn.proj.weight,
                                   a.attn.proj.weight / scale)
        torch.testing.assert_close(b.ffn.layers[1].weight,
                                   a.ffn.layers[1].weight / scale)
        # everything else keeps PyTorch's init
        torch.testing.assert_close(b.attn.qkv.weight, a.attn.qkv.weight)
        torch.testing.assert_close(b.ffn.layers[0][0].bias,
                                   a.ffn.layers[0][0].bias)
        # default nn.Linear init: uniform(+-1/sqrt(fan_in)), biases too
        bound = 1 / math.sqrt(64)
        w = b.attn.qkv.weight
        assert w.abs().max() <= bound and w.std() > bound / 3
        assert b.attn.proj.bias.abs().max() > 0
        assert torch.all(b.gamma_1 == 0.1)
    # a second init_weights call does not rescale again
    w = neck.patch_aggregation[0].attn.proj.weight.clone()
    neck.init_weights()
    torch.testing.assert_close(neck.patch_aggregation[0].attn.proj.weight, w)


@pytest.mark.parametrize('arch,early,dp,expected', [
    ('base', 9, 0.1, (0.0818, 0.0909)),
    ('large', 21, 0.1, (0.0913, 0.0957)),
])
def test_drop_path(arch, early, dp, expected):
    # the official dpr[early + i] of linspace(0, dp, max(depth, early+2))
    neck = BEiTv2Neck(arch=arch, early_layers=early, drop_path_rate=dp)
    got = [layer.drop_path.drop_prob for layer in neck.patch_aggregation]
    assert got == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize('num_layers', [2, 0])
def test_query_index_returns_the_gathered_outputs(num_layers):
    """With a ``query_index`` ([CLS] + patches) the neck takes those final
    tokens and returns those patches only, equal to gathering the full
    outputs."""
    neck = _neck(num_layers=num_layers)
    early, final = _inputs()
    bias = _bias()
    pos = torch.tensor([[0, 3, 4, 15], [2, 5, 6, 9]])  # (B, M)
    feats, feats_agg = neck((early, final), bias)
    final_cls_pos = torch.cat([final[:, :1], final[:, 1:][[[0], [1]], pos]],
                              dim=1)  # (B, 1+M, C)
    got, got_agg = neck((early, final_cls_pos), bias, with_cls_index(pos))
    assert got.shape == got_agg.shape == (2, 4, 64)
    idx = pos[..., None].expand(-1, -1, 64)
    torch.testing.assert_close(got, feats.gather(1, idx), rtol=0, atol=0)
    torch.testing.assert_close(
        got_agg, feats_agg.gather(1, idx), rtol=1e-5, atol=1e-6)
