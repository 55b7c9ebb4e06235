# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``VQKDTokenizer(center_target=True)``: the named deviation that subtracts
a running mean of the teacher features before the cosine loss."""
import torch
from test_vqkd import build, images


def test_default_keeps_official_layout():
    model = build()
    assert not any(k.startswith('target_mean') for k in model.state_dict())


def test_loss_uses_centred_target_and_running_mean():
    torch.manual_seed(0)
    model = build(center_target=True, center_momentum=0.5).train()
    x1, x2 = images(seed=1), images(seed=2)
    t1 = model.teacher(x1, (4, 4)).float()  # (B, N, C)
    model(x1, mode='loss')
    # First batch: the running mean starts at that batch's mean.
    torch.testing.assert_close(model.target_mean, t1.mean((0, 1)))
    t2 = model.teacher(x2, (4, 4)).float()
    model(x2, mode='loss')
    torch.testing.assert_close(
        model.target_mean, 0.5 * t1.mean((0, 1)) + 0.5 * t2.mean((0, 1)))

    # The loss is 1 - cos against the centred target; eval does not update.
    model.eval()
    mean = model.target_mean.clone()
    with torch.no_grad():
        z_q, _, _ = model.quantize(model.encode(x2), update=False)
        rec = model.decode(z_q).float()
        expected = model.rec_loss(rec, t2 - mean)
        plain = model.rec_loss(rec, t2)
        got = 1 - torch.tensor(
            [o['rec_cos_distance'] for o in model.predict(x2)]).mean()
    assert torch.equal(model.target_mean, mean)
    torch.testing.assert_close(1 - got, expected, atol=1e-5, rtol=0)
    assert (expected - plain).abs() > 1e-3  # centring changed the loss


def test_centred_checkpoint_loads_into_tokens_only_model(tmp_path):
    torch.manual_seed(0)
    trained = build(center_target=True).train()
    trained(images(), mode='loss')
    path = str(tmp_path / 'tok.pth')
    torch.save(dict(state_dict=trained.state_dict()), path)
    # A pretraining target generator (tokens only, default options).
    model = build(
        teacher=None, init_cfg=dict(type='Pretrained', checkpoint=path))
    x = images(seed=3)
    assert torch.equal(model.eval().get_tokens(x),
                       trained.eval().get_tokens(x))
    # A centred model restores its running mean.
    again = build(
        center_target=True,
        init_cfg=dict(type='Pretrained', checkpoint=path))
    assert torch.equal(again.target_mean, trained.target_mean)
