# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``BEiTv2ViT(..., query_index=...)``: the last block computes the
given tokens only; every other output is unchanged."""
import pytest
import torch

from mmbeitv2.models.backbones import BEiTv2ViT

ARCH = dict(embed_dims=64, num_layers=3, num_heads=2, feedforward_channels=128)


def _vit(**kwargs):
    torch.manual_seed(0)
    # the pretraining layout (shared table, raw tokens)
    kwargs = dict(dict(out_type='raw', use_shared_rel_pos_bias=True,
                       use_rel_pos_bias=False), **kwargs)
    vit = BEiTv2ViT(arch=ARCH, img_size=32, patch_size=8, **kwargs)
    vit.init_weights()
    torch.nn.init.normal_(vit.rel_pos_bias.relative_position_bias_table,
                          std=0.5)
    return vit.eval()


@pytest.mark.parametrize('final_norm', [False, True])
def test_last_block_outputs_only_the_query_tokens(final_norm):
    vit = _vit(out_indices=(1, 2), final_norm=final_norm)
    x = torch.randn(2, 3, 32, 32)
    query = torch.tensor([[0, 2, 7], [0, 1, 16]])  # (B, M), [CLS] = 0
    early, final = vit(x)
    got_early, got_final = vit(x, query_index=query)
    assert got_final.shape == (2, 3, 64)
    torch.testing.assert_close(got_early, early, rtol=0, atol=0)
    torch.testing.assert_close(
        got_final, final.gather(1, query[..., None].expand(-1, -1, 64)),
        rtol=1e-5, atol=1e-6)


def test_needs_raw_outputs():
    vit = _vit(out_type='cls_token')
    with pytest.raises(ValueError, match="out_type='raw'"):
        vit(torch.randn(1, 3, 32, 32),
            query_index=torch.zeros(1, 1, dtype=torch.long))
