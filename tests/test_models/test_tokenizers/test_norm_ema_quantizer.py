# Copyright (c) mmbeitv2 contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmbeitv2.models.tokenizers import (NormEMAVectorQuantizer,
                                        codebook_stats, cosine_kmeans)


def _feats(b=2, d=8, h=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, d, h, h, generator=g)


def test_kmeans_init_sets_initted_and_unit_codebook():
    q = NormEMAVectorQuantizer(num_embed=16, embed_dims=8).train()
    assert not q.initted
    assert q.embedding.weight.abs().sum() == 0  # zeros until k-means
    _, _, idx = q(_feats())
    assert q.initted
    norms = q.embedding.weight.norm(dim=1)
    torch.testing.assert_close(norms, torch.ones(16))
    assert idx.shape == (2 * 4 * 4, ) and idx.min() >= 0 and idx.max() < 16
    # k-means never runs again once initted.
    w = q.embedding.weight.clone()
    q.train(False)
    q(_feats(seed=1))
    assert torch.equal(q.embedding.weight, w)


def test_ema_update_equals_closed_form():
    torch.manual_seed(0)
    q = NormEMAVectorQuantizer(
        num_embed=8, embed_dims=4, kmeans_init=False, decay=0.9).train()
    e0 = q.embedding.weight.clone()
    z_e = _feats(b=1, d=4, h=3)
    _, _, idx = q(z_e)
    z = F.normalize(z_e.permute(0, 2, 3, 1).reshape(-1, 4), dim=-1)
    expected = e0.clone()
    for k in range(8):
        members = z[idx == k]
        if len(members):
            m = F.normalize(members.mean(0), dim=0)
            expected[k] = F.normalize(0.9 * e0[k] + 0.1 * m, dim=0)
    torch.testing.assert_close(q.embedding.weight, expected)
    bins = torch.bincount(idx, minlength=8).float()
    torch.testing.assert_close(q.cluster_size, 0.1 * bins)
    # idx is the nearest code by cosine under the *old* codebook.
    assert torch.equal(idx, (z @ e0.t()).argmax(1))


def test_eval_mode_does_not_mutate_anything():
    q = NormEMAVectorQuantizer(num_embed=16, embed_dims=8)
    q.train()(_feats())
    q.eval()
    before = {k: v.clone() for k, v in q.state_dict().items()}
    q(_feats(seed=3))
    q(_feats(seed=4), update=False)
    for k, v in q.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_straight_through_and_commitment():
    """Forward: the codebook vectors of the chosen ids (the codebook before
    this step's EMA update); backward: the gradient w.r.t. z_e is the one of
    l2norm alone (identity through the quantization); the commitment loss
    is beta * mse(code, z) with the code detached."""
    torch.manual_seed(0)
    q = NormEMAVectorQuantizer(
        num_embed=16, embed_dims=8, kmeans_init=False, beta=0.5).train()
    e0 = q.embedding.weight.clone()
    z_e = _feats().requires_grad_()  # (B, D, H, W) = (2, 8, 4, 4)
    z_q, loss, idx = q(z_e)
    assert not torch.equal(q.embedding.weight, e0)  # the EMA step ran
    z = F.normalize(z_e.detach().permute(0, 2, 3, 1), dim=-1)  # (B, H, W, D)
    # idx: the nearest old code by cosine, in raster order
    assert torch.equal(idx, (z.reshape(-1, 8) @ e0.t()).argmax(1))
    codes = e0[idx].reshape(2, 4, 4, 8).permute(0, 3, 1, 2)  # (B, D, H, W)
    assert z_q.shape == z_e.shape and z_q.dtype == torch.float32
    torch.testing.assert_close(z_q, codes, atol=1e-6, rtol=0)
    torch.testing.assert_close(
        loss, 0.5 * F.mse_loss(codes.permute(0, 2, 3, 1), z))

    # straight through: d(sum(g * z_q))/dz_e == d(sum(g * l2norm(z_e)))/dz_e
    g = torch.randn(z_e.shape, generator=torch.Generator().manual_seed(1))
    (g * z_q).sum().backward()
    ref = z_e.detach().clone().requires_grad_()
    (g * F.normalize(ref, dim=1)).sum().backward()
    torch.testing.assert_close(z_e.grad, ref.grad)

    # commitment: the code is a constant, only z gets the gradient
    z_e.grad = None
    e1 = q.embedding.weight.clone()
    _, loss1, idx1 = q(z_e, update=False)
    loss1.backward()
    c1 = e1[idx1].reshape(2, 4, 4, 8)  # (B, H, W, D)
    ref.grad = None
    (0.5 * F.mse_loss(c1, F.normalize(ref, dim=1).permute(0, 2, 3, 1))
     ).backward()
    assert ref.grad.abs().sum() > 0
    torch.testing.assert_close(z_e.grad, ref.grad)


def test_fp32_under_autocast():
    q = NormEMAVectorQuantizer(num_embed=16, embed_dims=8).train()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        z_q, loss, _ = q(_feats().bfloat16())
    assert z_q.dtype == torch.float32 and loss.dtype == torch.float32
    assert q.embedding.weight.dtype == torch.float32


def test_dead_code_restart():
    torch.manual_seed(0)
    # A codebook far from the data: all but a few codes stay unused.
    q = NormEMAVectorQuantizer(
        num_embed=32, embed_dims=8, kmeans_init=False,
        dead_code_threshold=2).train()
    data = F.normalize(torch.randn(1, 8, 1, 1), dim=1) + \
        0.05 * _feats(b=4, d=8, h=4)
    q(data)
    used_before = q(data)[2].unique().numel()
    q(data)  # some codes hit 0 times for 2 steps -> re-seeded
    z = F.normalize(data.permute(0, 2, 3, 1).reshape(-1, 8), dim=-1)
    # Every re-seeded code is a data vector now: all are close to the data.
    sims = (q.embedding.weight @ z.t()).max(1).values
    assert (sims > 0.9).float().mean() > 0.9
    q.dead_code_threshold = 0
    assert q(data)[2].unique().numel() >= used_before
    # Off by default.
    assert NormEMAVectorQuantizer().dead_code_threshold == 0


def test_checkpoint_keys_are_official():
    q = NormEMAVectorQuantizer(num_embed=16, embed_dims=8)
    official = {
        'cluster_size', 'embedding.weight', 'embedding.cluster_size',
        'embedding.embed_avg', 'embedding.initted'
    }
    # Plus mmbeitv2's dead-code counter, saved for resume.
    assert set(q.state_dict()) == official | {'steps_unused'}
    assert list(q.parameters()) == []  # nothing for the optimizer


def test_steps_unused_is_saved_and_optional_when_loading():
    """The dead-code counter survives a save/load; official files and
    older checkpoints without it load strictly, with the count at 0."""
    q = NormEMAVectorQuantizer(num_embed=16, embed_dims=8,
                               dead_code_threshold=5)
    q.steps_unused.copy_(torch.arange(16))
    state = q.state_dict()
    fresh = NormEMAVectorQuantizer(num_embed=16, embed_dims=8,
                                   dead_code_threshold=5)
    fresh.load_state_dict(state, strict=True)
    assert torch.equal(fresh.steps_unused, torch.arange(16))
    del state['steps_unused']
    fresh.load_state_dict(state, strict=True)
    assert not fresh.steps_unused.any()
    assert 'steps_unused' not in state  # the caller's dict is not changed


@pytest.mark.parametrize('key,value', [('num_embed', -5), ('num_embed', 0),
                                       ('embed_dims', 0), ('decay', 1.5),
                                       ('dead_code_threshold', -1)])
def test_nonsense_values_are_one_line_errors(key, value):
    from mmbeitv2.cli import describe_user_error
    from mmbeitv2.errors import ConfigValueError
    with pytest.raises(ConfigValueError) as err:
        NormEMAVectorQuantizer(**{key: value})
    line = describe_user_error(err.value)
    assert f'quantizer.{key}={value}' in line and '\n' not in line


def test_kmeans_and_stats():
    torch.manual_seed(0)
    centers = F.normalize(torch.randn(4, 8), dim=1)
    samples = F.normalize(
        centers.repeat_interleave(50, 0) + 0.01 * torch.randn(200, 8), dim=1)
    means, bins = cosine_kmeans(samples, 4, 10)
    assert bins.sum() == 200
    torch.testing.assert_close(means.norm(dim=1), torch.ones(4))
    # Converged on easy data: every mean is the normalised centroid of the
    # samples nearest to it (the k-means fixed point).
    buckets = (samples @ means.t()).argmax(1)
    for k in range(4):
        if (buckets == k).any():
            c = F.normalize(samples[buckets == k].mean(0), dim=0)
            assert torch.dot(c, means[k]) > 0.999
    assert (samples @ means.t()).max(1).values.mean() > 0.9
    stats = codebook_stats(torch.tensor([5, 5, 0, 0]))
    assert stats['usage'] == 0.5 and stats['unused'] == 2
    assert abs(stats['perplexity'] - 2.0) < 1e-6
