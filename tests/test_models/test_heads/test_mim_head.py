# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmbeitv2.models.heads import MIMHead


def _data(b=3, n=16, c=32, k=10):
    torch.manual_seed(0)
    feats = torch.randn(b, n, c)
    feats_agg = torch.randn(b, n, c)
    target = torch.randint(0, k, (b, n))
    mask = torch.rand(b, n) < 0.4
    mask[:, 0] = True
    return feats, feats_agg, target, mask


def _head(k=10, c=32):
    torch.manual_seed(0)
    head = MIMHead(embed_dims=c, num_embed=k)
    head.init_weights()
    return head


def test_loss_matches_manual_ce():
    head = _head()
    feats, feats_agg, target, mask = _data()
    losses = head.loss(feats, feats_agg, target, mask)
    assert set(losses) == {
        'loss_mim', 'loss_mim_agg', 'acc_mim', 'acc_mim_agg',
        'acc_mim_majority'
    }
    w, bias = head.cls_head.weight, head.cls_head.bias
    # official: CE over all masked tokens of the batch, batch-major
    logits = (feats @ w.T + bias)[mask]
    torch.testing.assert_close(losses['loss_mim'],
                               F.cross_entropy(logits, target[mask]))
    logits_agg = (feats_agg @ w.T + bias)[mask]
    torch.testing.assert_close(losses['loss_mim_agg'],
                               F.cross_entropy(logits_agg, target[mask]))
    acc = (logits.argmax(-1) == target[mask]).float().mean()
    torch.testing.assert_close(losses['acc_mim'], acc)
    # init: N(0, .02) truncated at 1 sigma -> near-uniform logits
    assert losses['loss_mim'].item() == \
        pytest.approx(math.log(10), abs=0.2)
    assert head.cls_head.weight.abs().max() <= 0.02
    assert torch.all(head.cls_head.bias == 0)


def test_loss_depends_only_on_masked_positions():
    head = _head()
    feats, feats_agg, target, mask = _data()
    ref = head.loss(feats, feats_agg, target, mask)
    f, fa, t = feats.clone(), feats_agg.clone(), target.clone()
    f[~mask] = torch.randn_like(f[~mask]) * 10
    fa[~mask] = torch.randn_like(fa[~mask]) * 10
    t[~mask] = (t[~mask] + 3) % 10
    got = head.loss(f, fa, t, mask)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=0, atol=0)
    # ... and does depend on the masked ones
    t = target.clone()
    t[mask] = (t[mask] + 3) % 10
    assert (head.loss(feats, feats_agg, t, mask)['loss_mim'] -
            ref['loss_mim']).abs() > 1e-4
    f = feats.clone()
    f[mask] += 1.
    got = head.loss(f, feats_agg, target, mask)
    assert (got['loss_mim'] - ref['loss_mim']).abs() > 1e-4
    torch.testing.assert_close(got['loss_mim_agg'], ref['loss_mim_agg'])


def test_head_runs_on_masked_tokens_only():
    head = _head()
    feats, feats_agg, target, mask = _data()
    shapes = []
    head.cls_head.register_forward_hook(
        lambda m, i, o: shapes.append(tuple(i[0].shape)))
    head.loss(feats, feats_agg, target, mask)
    m = int(mask.sum())
    assert shapes == [(m, 32), (m, 32)]
    assert head(feats, mask).shape == (m, 10)


def test_accuracy_and_majority_baseline():
    head = MIMHead(embed_dims=4, num_embed=4)
    with torch.no_grad():
        head.cls_head.weight.copy_(torch.eye(4) * 10)
        head.cls_head.bias.zero_()
    # token features one-hot of their code -> perfect prediction
    target = torch.tensor([[0, 1, 1, 1, 2, 3]])
    mask = torch.tensor([[True, True, True, True, False, False]])
    feats = F.one_hot(target, 4).float()
    wrong = F.one_hot((target + 1) % 4, 4).float()
    losses = head.loss(feats, wrong, target, mask)
    assert losses['acc_mim'].item() == 1.0
    assert losses['acc_mim_agg'].item() == 0.0
    # code 1 is 3 of the 4 masked targets
    assert losses['acc_mim_majority'].item() == 0.75
    assert not any(v.requires_grad
                   for k, v in losses.items() if k.startswith('acc'))


def test_pre_gathered_inputs_give_the_same_losses():
    """``mask=None``: (B, M, C) features and (B, M) targets already at the
    masked positions (BEiTv2's masked-only path) -> the same dict."""
    head = _head()
    feats, feats_agg, target, _ = _data()
    mask = torch.zeros(3, 16, dtype=torch.bool)
    mask[:, [1, 4, 5, 11]] = True  # 4 per image
    ref = head.loss(feats, feats_agg, target, mask)
    got = head.loss(feats[:, [1, 4, 5, 11]], feats_agg[:, [1, 4, 5, 11]],
                    target[:, [1, 4, 5, 11]])
    assert got.keys() == ref.keys()
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=0, atol=0)
