# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``BEiTv2(use_masked_only_last_blocks=True)`` (the default) gives the
losses and gradients of the plain path (every token through every block)
within float noise, and falls back to it when the mask counts differ."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmbeitv2.models.utils import (masked_positions, uniform_mask_count,
                                   with_cls_index)
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

register_all_modules()

ARCH = dict(embed_dims=64, num_layers=4, num_heads=2, feedforward_channels=128)
# two encoder blocks: the last one runs masked-only after a full one
TOK_ARCH = dict(
    embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
K, B, N, M = 32, 4, 16, 6  # codebook, batch, 4x4 patches, masked per image


def build_model(drop_path_rate=0., use_sdpa=True):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='BEiTv2',
            data_preprocessor=dict(
                type='TwoNormDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                second_mean=[0., 0., 0.],
                second_std=[255., 255., 255.],
                to_rgb=True),
            backbone=dict(
                type='BEiTv2ViT', arch=ARCH, img_size=32, patch_size=8,
                out_indices=(2, 3), out_type='raw', final_norm=False,
                with_mask_token=True, layer_scale_init_value=0.1,
                use_shared_rel_pos_bias=True, use_rel_pos_bias=False,
                drop_path_rate=drop_path_rate, use_sdpa=use_sdpa),
            neck=dict(
                type='BEiTv2Neck', arch=ARCH, early_layers=3,
                drop_path_rate=drop_path_rate, use_sdpa=use_sdpa),
            head=dict(type='MIMHead', embed_dims=64, num_embed=K),
            target_generator=dict(
                type='VQKDTokenizer',
                encoder=dict(arch=TOK_ARCH, img_size=32, patch_size=8),
                decoder=dict(
                    arch=dict(TOK_ARCH, num_layers=1), img_size=4,
                    patch_size=1, in_channels=16),
                quantizer=dict(num_embed=K, embed_dims=16,
                               kmeans_init=False),
                decoder_out_dims=32)))
    model.init_weights()
    # non-zero shared table: the gathered bias rows matter
    torch.nn.init.normal_(
        model.backbone.rel_pos_bias.relative_position_bias_table, std=0.5)
    return model


def batch(counts=(M, ) * B, seed=0, as_tensor=False):
    """uint8 images and masks with ``counts[i]`` masked patches in image i,
    numpy as ``PackInputs(algorithm_keys=['mask'])`` leaves them."""
    rng = np.random.default_rng(seed)
    imgs = torch.from_numpy(
        rng.integers(0, 256, (len(counts), 3, 32, 32), dtype=np.uint8))
    samples = []
    for c in counts:
        mask = np.zeros(N, bool)
        mask[rng.permutation(N)[:c]] = True
        ds = DataSample()
        ds.set_field(
            torch.from_numpy(mask.reshape(4, 4))
            if as_tensor else mask.reshape(4, 4), 'mask')
        samples.append(ds)
    return dict(inputs=[imgs, imgs.clone()], data_samples=samples)


def run(model, data, masked_only, seed=1):
    """Losses and all parameter gradients of one backward."""
    model.use_masked_only_last_blocks = masked_only
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)  # same drop-path draws on both paths
    losses = model(**data, mode='loss')
    (losses['loss_mim'] + losses['loss_mim_agg']).backward()
    grads = {n: p.grad for n, p in model.named_parameters()
             if p.grad is not None}
    return {k: v.detach() for k, v in losses.items()}, grads


def last_block_shapes(model):
    """Hooks recording the token count of the three last blocks."""
    shapes, handles = {}, []
    for name, block in (
            ('backbone', model.backbone.layers[-1]),
            ('neck', model.neck.patch_aggregation[-1]),
            ('tokenizer', model.target_generator.encoder.layers[-1])):
        handles.append(block.register_forward_hook(
            lambda m, i, o, name=name: shapes.__setitem__(name, o.shape[1])))
    return shapes, handles


def max_diffs(a, b):
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def test_positions_helpers():
    mask = torch.rand(5, N).argsort(1) < M  # M True per row
    assert uniform_mask_count(mask) == M
    pos = masked_positions(mask, M)
    assert pos.shape == (5, M)
    for row, p in zip(mask, pos):  # raster order of x[mask]
        assert p.tolist() == row.nonzero().flatten().tolist()
    assert with_cls_index(pos).tolist() == [[0] + (p + 1).tolist()
                                            for p in pos]
    mask[0, ~mask[0]] = torch.tensor([True] + [False] * (N - M - 1))
    assert uniform_mask_count(mask) is None  # 7, 6, 6, 6, 6
    assert uniform_mask_count(torch.zeros(2, N, dtype=torch.bool)) is None


@pytest.mark.parametrize('mode,drop_path_rate,use_sdpa', [
    ('eval', 0., True), ('train', 0., True), ('train', 0.1, True),
    ('train', 0.1, False)])
def test_masked_only_matches_plain_path(mode, drop_path_rate, use_sdpa):
    model = build_model(drop_path_rate, use_sdpa).train(mode == 'train')
    data = model.data_preprocessor(batch(), training=mode == 'train')
    shapes, handles = last_block_shapes(model)
    ref, ref_grads = run(model, data, masked_only=False)
    assert shapes == dict(backbone=1 + N, neck=1 + N, tokenizer=1 + N)
    got, got_grads = run(model, data, masked_only=True)
    # [CLS] + masked / masked / masked tokens through the last blocks
    assert shapes == dict(backbone=1 + M, neck=M, tokenizer=M)
    for h in handles:
        h.remove()
    assert got.keys() == ref.keys()
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-5, atol=1e-6)
    # every trainable parameter gets the same gradient
    assert got_grads.keys() == ref_grads.keys() == {
        n for n, p in model.named_parameters() if p.requires_grad}
    for key in ref_grads:
        torch.testing.assert_close(got_grads[key], ref_grads[key],
                                   rtol=1e-4, atol=1e-6,
                                   msg=lambda m, k=key: f'{k}: {m}')
    assert max_diffs(got, ref) < 1e-5
    assert max_diffs(got_grads, ref_grads) < 1e-5


def test_targets_at_masked_positions_equal_full_tokens():
    model = build_model().eval()
    data = model.data_preprocessor(batch(seed=3), training=False)
    mask = torch.stack([torch.as_tensor(ds.mask).flatten()
                        for ds in data['data_samples']])
    pos = masked_positions(mask, M)  # (B, M)
    full = model.target_generator.get_tokens(data['inputs'][1])  # (B, N)
    got = model.get_targets(data['inputs'][1], pos)
    assert got.shape == (B, M) and got.dtype == torch.long
    assert torch.equal(got, full.gather(1, pos))
    assert torch.equal(got.flatten(), full[mask])


@pytest.mark.parametrize('as_tensor', [False, True])
def test_unequal_mask_counts_fall_back_to_plain_path(as_tensor):
    model = build_model().train()
    data = model.data_preprocessor(
        batch(counts=(5, 6, 6, 7), as_tensor=as_tensor), training=True)
    shapes, handles = last_block_shapes(model)
    ref, ref_grads = run(model, data, masked_only=False)
    got, got_grads = run(model, data, masked_only=True)
    for h in handles:
        h.remove()
    assert shapes == dict(backbone=1 + N, neck=1 + N, tokenizer=1 + N)
    for key in ref:  # the very same computation
        torch.testing.assert_close(got[key], ref[key], rtol=0, atol=0)
    for key in ref_grads:
        torch.testing.assert_close(
            got_grads[key], ref_grads[key], rtol=0, atol=0)


def test_tensor_masks_take_the_masked_only_path_too():
    model = build_model().eval()
    ref, _ = run(model, model.data_preprocessor(batch()), masked_only=False)
    data = model.data_preprocessor(batch(as_tensor=True))
    shapes, handles = last_block_shapes(model)
    got, _ = run(model, data, masked_only=True)
    for h in handles:
        h.remove()
    assert shapes['backbone'] == 1 + M
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-5, atol=1e-6)


def test_default_on_and_grid_mismatch_reported():
    model = build_model()
    assert model.use_masked_only_last_blocks
    data = model.data_preprocessor(batch(), training=False)
    for ds in data['data_samples']:  # a 2x2 grid, 1 masked in each
        ds.set_field(np.array([[True, False], [False, False]]), 'mask')
    with pytest.raises(ValueError, match='tokenizer grid'):
        model(**data, mode='loss')
