# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Parity with the official ``VisionTransformerForMaskedImageModelingCLS``
(tiny: img 32, patch 8, width 64, depth 4, early_layers 3, vocab 64;
fixture made by the official code, tests/data/official/README)."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

from mmbeitv2.models.utils import masked_positions, with_cls_index
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

register_all_modules()
ROOT = osp.join(osp.dirname(__file__), '..', '..')
FIXTURE = osp.join(ROOT, 'tests', 'data', 'official',
                   'beitv2_pretrain_tiny.pth')
ARCH = dict(embed_dims=64, num_layers=4, num_heads=2, feedforward_channels=256)


def _convert(tmp_path):
    path = osp.join(ROOT, 'tools', 'model_converters',
                    'beitv2_unilm_to_mmbeitv2.py')
    spec = importlib.util.spec_from_file_location('conv', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    dst = tmp_path / 'converted.pth'
    tool.main([FIXTURE, str(dst)])
    return torch.load(dst, weights_only=True)['state_dict']


def _model(use_sdpa):
    model = torch.nn.Module()
    model.backbone = MODELS.build(
        dict(
            type='BEiTv2ViT',
            arch=ARCH,
            img_size=32,
            patch_size=8,
            with_mask_token=True,
            use_shared_rel_pos_bias=True,
            use_rel_pos_bias=False,
            out_indices=(2, 3),
            out_type='raw',
            final_norm=False,
            layer_scale_init_value=0.1,
            use_sdpa=use_sdpa))
    model.neck = MODELS.build(
        dict(type='BEiTv2Neck', arch=ARCH, early_layers=3, use_sdpa=use_sdpa))
    model.head = MODELS.build(
        dict(type='MIMHead', embed_dims=64, num_embed=64))
    return model.eval()


@pytest.mark.official
@pytest.mark.parametrize('use_sdpa', [False, True])
def test_matches_official_pretraining_forward(tmp_path, use_sdpa):
    ref = torch.load(FIXTURE, weights_only=True)
    model = _model(use_sdpa)
    result = model.load_state_dict(_convert(tmp_path), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    mask = ref['masks'].bool()  # (4, 16), 6 per image
    with torch.no_grad():
        early, final = model.backbone(ref['images_normed'], mask)
        feats, feats_agg = model.neck((early, final),
                                      model.backbone.rel_pos_bias())
        logits = model.head(feats, mask)
        logits_agg = model.head(feats_agg, mask)
        losses = model.head.loss(feats, feats_agg, ref['labels'], mask)
    # fp32: features within 1e-5 absolute (fixtures/README.md)
    tol = dict(rtol=0, atol=1e-5)
    torch.testing.assert_close(feats, ref['final_normed'], **tol)
    torch.testing.assert_close(feats_agg, ref['cls_pt_normed'], **tol)
    torch.testing.assert_close(logits, ref['logits_masked'], **tol)
    torch.testing.assert_close(logits_agg, ref['logits_cls_pt_masked'], **tol)
    torch.testing.assert_close(losses['loss_mim'], ref['loss_1'], **tol)
    torch.testing.assert_close(losses['loss_mim_agg'], ref['loss_2'], **tol)
    # the official loss is CE against labels[mask], batch-major
    torch.testing.assert_close(
        F.cross_entropy(ref['logits_masked'], ref['labels'][mask]),
        ref['loss_1'], **tol)


@pytest.mark.official
@pytest.mark.parametrize('use_sdpa', [False, True])
def test_masked_only_last_blocks_match_official(tmp_path, use_sdpa):
    """``BEiTv2``'s masked-only path (last backbone block on [CLS] + masked
    tokens, last neck block on masked tokens) gives the official masked
    features and losses."""
    ref = torch.load(FIXTURE, weights_only=True)
    model = _model(use_sdpa)
    model.load_state_dict(_convert(tmp_path), strict=True)
    mask = ref['masks'].bool()  # (4, 16), 6 per image
    pos = masked_positions(mask, 6)  # (B, M)
    with torch.no_grad():
        bias = model.backbone.rel_pos_bias()
        early, final = model.backbone(
            ref['images_normed'], mask, bias,
            last_query_index=with_cls_index(pos))
        feats, feats_agg = model.neck((early, final), bias, pos)
        losses = model.head.loss(feats, feats_agg,
                                 ref['labels'].gather(1, pos))
    assert final.shape[1] == 1 + 6 and feats_agg.shape[1] == 6
    tol = dict(rtol=0, atol=1e-5)
    torch.testing.assert_close(feats.flatten(0, 1),
                               ref['final_normed'][mask], **tol)
    torch.testing.assert_close(feats_agg.flatten(0, 1),
                               ref['cls_pt_normed'][mask], **tol)
    torch.testing.assert_close(losses['loss_mim'], ref['loss_1'], **tol)
    torch.testing.assert_close(losses['loss_mim_agg'], ref['loss_2'], **tol)
