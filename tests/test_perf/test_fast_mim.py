# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The masked-only MIM loss of the benchmark equals ``BEiTv2.loss``."""
import torch

from mmbeitv2.utils import register_all_modules
from mmbeitv2.utils.benchmark_fast_mim import (fast_mim_loss,
                                               masked_positions,
                                               masked_tokens)
from mmbeitv2.utils.benchmark_stages import build_sides, make_batch
from ._tiny import ARCH, IMG, PATCH, TINY_OPTS, assert_grads_close, grads

register_all_modules(init_default_scope=False)


def test_masked_positions_is_raster_order_of_mask():
    mask = torch.rand(5, 16).argsort(1) < 6  # 6 True per row
    pos = masked_positions(mask, 6)
    assert pos.shape == (5, 6)
    for row, p in zip(mask, pos):
        assert p.tolist() == row.nonzero().flatten().tolist()


def test_fast_mim_loss_matches_algorithm():
    model = build_sides('pretrain', ARCH, IMG, torch.device('cpu'),
                        TINY_OPTS, with_ref=False)[0].model
    # non-zero shared table, so the gathered bias rows are exercised
    torch.nn.init.normal_(
        model.backbone.rel_pos_bias.relative_position_bias_table, std=0.5)
    b = make_batch('pretrain', 4, IMG, torch.device('cpu'), 0, PATCH)
    m = b['num_masked']
    assert m == 6 and bool((b['mask'].sum(1) == m).all())

    tokens = model.target_generator.get_tokens(b['images01'])
    pos = masked_positions(b['mask'], m)
    assert torch.equal(
        masked_tokens(model.target_generator, b['images01'], pos).flatten(),
        tokens[b['mask']])

    ref = model.loss([b['images'], b['images01']], b['data_samples'])
    (ref['loss_mim'] + ref['loss_mim_agg']).backward()
    ref_grads = grads(model)
    model.zero_grad(set_to_none=True)
    fast = fast_mim_loss(model, b['images'], b['images01'], b['mask'], m)
    (fast['loss_mim'] + fast['loss_mim_agg']).backward()
    for k in ('loss_mim', 'loss_mim_agg'):
        torch.testing.assert_close(fast[k], ref[k], atol=1e-6, rtol=1e-5)
    assert_grads_close(grads(model), ref_grads, atol=1e-6, rtol=1e-4)
    # every trainable parameter still gets a gradient
    assert len(ref_grads) == sum(
        p.requires_grad for p in model.parameters())
