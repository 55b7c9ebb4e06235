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
    losses = head.loss(feats[mask], feats_agg[mask], target[mask])
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


def test_loss_depends_on_every_given_token():
    """The head takes the T masked tokens (one contract); the loss changes
    with any of their targets or features."""
    head = _head()
    feats, feats_agg, target, mask = _data()
    f, fa, t = feats[mask], feats_agg[mask], target[mask]  # (T, C), (T, )
    ref = head.loss(f, fa, t)
    t2 = t.clone()
    t2[-1] = (t2[-1] + 3) % 10
    assert (head.loss(f, fa, t2)['loss_mim'] - ref['loss_mim']).abs() > 1e-4
    f2 = f.clone()
    f2[0] += 1.
    got = head.loss(f2, fa, t)
    assert (got['loss_mim'] - ref['loss_mim']).abs() > 1e-4
    torch.testing.assert_close(got['loss_mim_agg'], ref['loss_mim_agg'])


def test_head_runs_on_given_tokens_only():
    head = _head()
    feats, feats_agg, target, mask = _data()
    shapes = []
    head.cls_head.register_forward_hook(
        lambda m, i, o: shapes.append(tuple(i[0].shape)))
    head.loss(feats[mask], feats_agg[mask], target[mask])
    m = int(mask.sum())
    assert shapes == [(m, 32), (m, 32)]
    assert head(feats[mask]).shape == (m, 10)


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
    losses = head.loss(feats[mask], wrong[mask], target[mask])
    assert losses['acc_mim'].item() == 1.0
    assert losses['acc_mim_agg'].item() == 0.0
    # code 1 is 3 of the 4 masked targets
    assert losses['acc_mim_majority'].item() == 0.75
    assert not any(v.requires_grad
                   for k, v in losses.items() if k.startswith('acc'))
