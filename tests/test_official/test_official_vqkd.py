# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Parity with the official VQ-KD code (unilm beit2 @ 768a3c87) on the
``vqkd_tiny.pth`` fixture (tests/data/official/README.md)."""
import os.path as osp

import pytest
import torch

from tiny_models import vit_arch, vqkd_cfg
from mmbeitv2.utils import register_all_modules
from mmbeitv2.checkpoint import convert_vqkd

FIXTURE = osp.join(
    osp.dirname(__file__), '..', 'data', 'official', 'vqkd_tiny.pth')
# The fixture's official VQKD(n_embed=64, embed_dim=16, decoder_out_dim=32).
TINY_CFG = vqkd_cfg(vit_arch(64, 2), num_embed=64, decoder_out_dims=32)
ATOL = 1e-5

pytestmark = pytest.mark.official


@pytest.fixture(scope='module')
def fixture():
    return torch.load(FIXTURE, map_location='cpu', weights_only=True)


def _build(fixture, use_sdpa=True):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    cfg = dict(TINY_CFG)
    cfg['encoder'] = dict(cfg['encoder'], use_sdpa=use_sdpa)
    cfg['decoder'] = dict(cfg['decoder'], use_sdpa=use_sdpa)
    model = MODELS.build(cfg)
    state, dropped = convert_vqkd(fixture['model'])
    model.load_state_dict(state, strict=True)
    assert dropped == []
    return model.eval()


@pytest.mark.parametrize('use_sdpa', [True, False])
def test_forward_matches_official(fixture, use_sdpa):
    model = _build(fixture, use_sdpa)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        z_e = model.encode(fixture['images01'])  # (B, D, H, W)
        z_q, loss_commit, idx = model.quantize(z_e)
        rec = model.decode(z_q)
        loss_rec = model.calculate_rec_loss(rec, fixture['target'])
        tokens = model.get_tokens(fixture['images01'])
    diffs = {
        'encode_task_out':
        (z_e.flatten(2).transpose(1, 2) - fixture['encode_task_out']).abs(),
        'quantized': (z_q - fixture['quantized']).abs(),
        'rec': (rec - fixture['rec']).abs(),
        'loss_rec': (loss_rec - fixture['loss_rec']).abs(),
        'loss_commit': (loss_commit - fixture['loss_commit']).abs(),
    }
    for name, diff in diffs.items():
        print(f'{name}: max abs diff {diff.max().item():.3e}')
        assert diff.max().item() <= ATOL, name
    assert torch.equal(idx.view(4, -1), fixture['tokens'])
    assert torch.equal(tokens, fixture['tokens'])
    # eval mode mutates nothing (official: cluster_size EMA in eval too).
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_one_ema_update_matches_official(fixture):
    quantizer = _build(fixture).quantize.train()
    cs0 = quantizer.cluster_size.clone()
    # (B, N, D) -> (B, D, H, W)
    z_e = fixture['encode_task_out'].view(4, 4, 4, 16).permute(0, 3, 1, 2)
    _, _, idx = quantizer(z_e)
    diff = (quantizer.embedding.weight -
            fixture['ema_codebook_after_one_update']).abs().max().item()
    print(f'ema codebook: max abs diff {diff:.3e}')
    assert diff <= ATOL
    # The fixture's cluster sizes are the official ``embedding.cluster_size``
    # buffer, which the official update never touches (docs/official.md
    # §1.3.3).
    assert torch.equal(quantizer.embedding.cluster_size,
                       fixture['ema_cluster_size_after_one_update'])
    # quantize.cluster_size: one EMA step of the bin counts (docs/official.md
    # §1.3.6).
    bins = torch.bincount(idx, minlength=64).float()
    torch.testing.assert_close(
        quantizer.cluster_size, 0.99 * cs0 + 0.01 * bins, rtol=0, atol=1e-6)
    assert quantizer.initted  # no k-means: the checkpoint had initted = 1
