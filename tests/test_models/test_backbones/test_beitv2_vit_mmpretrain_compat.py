# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``BEiTv2ViT`` as a drop-in for mmpretrain 1.2's ``BEiTViT``.

``TestBEiT`` is mmpretrain 1.2's ``tests/test_models/test_backbones/
test_beit.py`` with the class swapped; the tests below it check the
arguments that suite does not reach (``frozen_stages``, ``with_cls_token``,
``bias``, ``patch_cfg``/``layer_cfgs``) and that the defaults are
``BEiTViT``'s.
"""
import inspect
from copy import deepcopy
from unittest import TestCase

import pytest
import torch
from mmpretrain.models.backbones import BEiTViT

from mmbeitv2.models.backbones import BEiTv2ViT

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


class TestBEiT(TestCase):

    def setUp(self):
        self.cfg = dict(
            arch='b', img_size=224, patch_size=16, drop_path_rate=0.1)

    def test_structure(self):
        # Test invalid default arch
        with self.assertRaisesRegex(AssertionError, 'not in default archs'):
            cfg = deepcopy(self.cfg)
            cfg['arch'] = 'unknown'
            BEiTv2ViT(**cfg)

        # Test invalid custom arch
        with self.assertRaisesRegex(AssertionError, 'Custom arch needs'):
            cfg = deepcopy(self.cfg)
            cfg['arch'] = {
                'num_layers': 24,
                'num_heads': 16,
                'feedforward_channels': 4096
            }
            BEiTv2ViT(**cfg)

        # Test custom arch
        cfg = deepcopy(self.cfg)
        cfg['arch'] = {
            'embed_dims': 128,
            'num_layers': 24,
            'num_heads': 16,
            'feedforward_channels': 1024
        }
        model = BEiTv2ViT(**cfg)
        self.assertEqual(model.embed_dims, 128)
        self.assertEqual(model.num_layers, 24)
        self.assertIsNone(model.pos_embed)
        self.assertIsNone(model.rel_pos_bias)
        for layer in model.layers:
            self.assertEqual(layer.attn.num_heads, 16)
            self.assertEqual(layer.ffn.feedforward_channels, 1024)

        # Test out_indices
        cfg = deepcopy(self.cfg)
        cfg['out_indices'] = {1: 1}
        with self.assertRaisesRegex(AssertionError, "get <class 'dict'>"):
            BEiTv2ViT(**cfg)
        cfg['out_indices'] = [0, 13]
        with self.assertRaisesRegex(AssertionError, 'Invalid out_indices 13'):
            BEiTv2ViT(**cfg)

        # Test pos_embed
        cfg = deepcopy(self.cfg)
        cfg['use_abs_pos_emb'] = True
        model = BEiTv2ViT(**cfg)
        self.assertEqual(model.pos_embed.shape, (1, 197, 768))

        # Test model structure
        cfg = deepcopy(self.cfg)
        cfg['drop_path_rate'] = 0.1
        model = BEiTv2ViT(**cfg)
        self.assertEqual(len(model.layers), 12)
        dpr_inc = 0.1 / (12 - 1)
        dpr = 0
        for layer in model.layers:
            self.assertEqual(layer.gamma_1.shape, (768, ))
            self.assertEqual(layer.gamma_2.shape, (768, ))
            self.assertEqual(layer.attn.embed_dims, 768)
            self.assertEqual(layer.attn.num_heads, 12)
            self.assertEqual(layer.ffn.feedforward_channels, 3072)
            self.assertFalse(layer.ffn.add_identity)
            self.assertAlmostEqual(layer.ffn.dropout_layer.drop_prob, dpr)
            dpr += dpr_inc

    def test_forward(self):
        imgs = torch.randn(1, 3, 224, 224)
        # (overrides of self.cfg, the shape of every output)
        cases = [
            (dict(out_type='cls_token'), [(1, 768)]),
            (dict(), [(1, 768)]),  # the default: averaged patch tokens
            (dict(out_type='featmap'), [(1, 768, 14, 14)]),  # no average
            (dict(out_indices=[-3, -2, -1]), [(1, 768)] * 3),
        ]
        for overrides, shapes in cases:
            with self.subTest(**overrides):
                model = BEiTv2ViT(**dict(deepcopy(self.cfg), **overrides))
                outs = model(imgs)
                self.assertIsInstance(outs, tuple)
                self.assertEqual([tuple(out.shape) for out in outs], shapes)


def test_defaults_and_arguments_are_beitvit_ones():
    ours = inspect.signature(BEiTv2ViT.__init__).parameters
    theirs = inspect.signature(BEiTViT.__init__).parameters
    for name, p in theirs.items():
        assert name in ours, name
        assert ours[name].default == p.default, name
    for arch in BEiTViT.arch_zoo:
        assert BEiTv2ViT.arch_zoo[arch] == BEiTViT.arch_zoo[arch], arch


def _pair(**kwargs):
    """mmpretrain's BEiTViT and ours with the same weights."""
    torch.manual_seed(0)
    ref = BEiTViT(arch=TINY, img_size=32, patch_size=8, **kwargs)
    for p in ref.parameters():  # zero-init tables/gammas would hide bugs
        torch.nn.init.normal_(p, std=0.2)
    ours = BEiTv2ViT(arch=TINY, img_size=32, patch_size=8, **kwargs)
    result = ours.load_state_dict(ref.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    ref.eval()  # mmpretrain's BaseBackbone.train returns None
    return ref, ours.eval()


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(out_type='raw', out_indices=[0, 1]),
    dict(out_type='cls_token', final_norm=True),
    dict(out_type='featmap', use_abs_pos_emb=True),
    dict(use_rel_pos_bias=False, use_shared_rel_pos_bias=True),
    dict(bias=True),
    dict(bias=False, layer_scale_init_value=0.),
    dict(with_cls_token=False, use_rel_pos_bias=False,
         use_abs_pos_emb=True),
])
def test_same_weights_same_outputs(kwargs):
    ref, ours = _pair(**kwargs)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        for a, b in zip(ref(x), ours(x)):
            torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)


def test_another_input_size_resizes_pos_embed():
    ref, ours = _pair(use_abs_pos_emb=True, use_rel_pos_bias=False,
                      out_type='featmap')
    x = torch.randn(1, 3, 48, 40)
    with torch.no_grad():
        torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-5,
                                   rtol=1e-5)


@pytest.mark.parametrize('stages', [1, 2])
def test_frozen_stages(stages):
    model = BEiTv2ViT(arch=TINY, img_size=32, patch_size=8,
                      final_norm=True, frozen_stages=stages)
    model.train()
    assert not model.cls_token.requires_grad
    assert not any(p.requires_grad for p in model.patch_embed.parameters())
    for i, layer in enumerate(model.layers):
        frozen = i < stages
        assert layer.training is not frozen
        assert all(p.requires_grad is not frozen for p in layer.parameters())
    all_frozen = stages == TINY['num_layers']
    for norm in (model.ln1, model.ln2):
        assert norm.weight.requires_grad is not all_frozen
        assert norm.training is not all_frozen


def test_cls_token_output_needs_the_cls_token():
    with pytest.raises(ValueError, match='with_cls_token'):
        BEiTv2ViT(arch=TINY, with_cls_token=False, out_type='cls_token')


def test_layer_cfgs_and_patch_cfg():
    model = BEiTv2ViT(
        arch=TINY, img_size=32, patch_size=8,
        patch_cfg=dict(bias=False),
        layer_cfgs=[dict(layer_scale_init_value=0.), dict()])
    assert model.patch_embed.projection.bias is None
    assert model.layers[0].gamma_1 is None
    assert model.layers[1].gamma_1 is not None
    with pytest.raises(ValueError, match='patch_cfg'):
        BEiTv2ViT(arch=TINY, patch_cfg=dict(norm_cfg=dict(type='LN')))
