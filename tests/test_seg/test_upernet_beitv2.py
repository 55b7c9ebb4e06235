# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""UperNet + BEiTv2ViT through mmsegmentation 1.x on CPU (docs/official.md §4):
the mmcv.ops stand-in, the scoped type lookup, forward/backward, slide
inference and layer decay, with the ADE20K config at tiny shapes."""
import os.path as osp
from unittest import TestCase

import pytest
import torch

pytest.importorskip('mmseg')

import mmbeitv2.seg  # noqa: E402,F401  (installs the stand-in first)
from mmbeitv2.models import BEiTv2ViT  # noqa: E402
from mmbeitv2.compat.mmcv_ops_stub import point_sample  # noqa: E402

CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'beitv2', 'benchmarks',
    'upernet_vit-base-p16_beitv2-1600e-pre_8xb2-160k_ade20k-512x512.py')
C, L, IMG = 32, 4, 64


def tiny_segmentor():
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(CONFIG)
    model = cfg.model
    model.data_preprocessor.size = (IMG, IMG)
    model.backbone.update(
        arch=dict(
            embed_dims=C, num_layers=L, num_heads=2, feedforward_channels=64),
        img_size=IMG,
        patch_size=8,
        out_indices=[0, 1, 2, 3],
        init_cfg=None)
    model.neck.embed_dim = C
    model.decode_head.update(in_channels=[C] * 4, channels=C, num_classes=5)
    model.auxiliary_head.update(in_channels=C, channels=16, num_classes=5)
    model.test_cfg = dict(mode='slide', crop_size=(IMG, IMG), stride=(43, 43))
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = MODELS.build(model)
    seg.init_weights()
    return revert_sync_batchnorm(seg), cfg


class TestMMCVOpsShim(TestCase):

    def test_point_sample_is_bilinear(self):
        feat = torch.arange(16.).view(1, 1, 4, 4)  # value = 4 * y + x
        # pixel centres at (x + 0.5) / 4; midway between (0,0) and (1,1)
        points = torch.tensor([[[0.25, 0.25], [0.625, 0.375]]])
        out = point_sample(feat, points, align_corners=False)
        self.assertEqual(out.shape, (1, 1, 2))
        torch.testing.assert_close(out[0, 0], torch.tensor([2.5, 6.0]))

    def test_missing_ops(self):
        import mmcv.ops
        if not getattr(mmcv.ops, '_mmbeitv2_shim', False):
            self.skipTest('the real mmcv.ops is installed')
        with self.assertRaises(ModuleNotFoundError):
            from mmcv.ops import PSAMask  # noqa: F401
        with self.assertRaises(AttributeError):
            mmcv.ops.__wrapped__
        with self.assertRaisesRegex(RuntimeError, 'compiled'):
            mmcv.ops.sigmoid_focal_loss(None, None)

    def test_scoped_type_resolves_from_mmseg(self):
        from mmseg.registry import MODELS
        self.assertIs(MODELS.get('mmbeitv2.BEiTv2ViT'), BEiTv2ViT)


class TestUperNetBEiTv2(TestCase):

    def test_forward_backward_and_slide_inference(self):
        from mmseg.structures import SegDataSample
        from mmengine.structures import PixelData
        seg, _ = tiny_segmentor()
        self.assertIsInstance(seg.backbone, BEiTv2ViT)
        torch.manual_seed(0)
        # batch 2: BN in the PPM needs more than one value (docs/stack_notes.md
        # #8)
        inputs = torch.randn(2, 3, IMG, IMG)
        samples = []
        for _ in range(2):
            s = SegDataSample()
            s.gt_sem_seg = PixelData(
                data=torch.randint(0, 5, (1, IMG, IMG)))
            s.set_metainfo(
                dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG),
                     ori_shape=(IMG, IMG)))
            samples.append(s)
        seg.train()
        losses = seg.loss(inputs, samples)
        self.assertEqual(
            set(k for k in losses if 'loss' in k),
            {'decode.loss_ce', 'aux.loss_ce'})
        total = sum(v for k, v in losses.items() if 'loss' in k)
        self.assertTrue(torch.isfinite(total))
        # ~ln(5) each at init, aux weighted 0.4 (docs/official.md §4)
        self.assertLess(abs(losses['decode.loss_ce'].item() - 1.609), 0.5)
        total.backward()
        for name, p in seg.backbone.named_parameters():
            self.assertIsNotNone(p.grad, name)
        # the 4 multi-scale maps: strides 2, 4, 8, 16 of patch 8
        feats = seg.neck(seg.backbone(inputs))
        self.assertEqual([f.shape[-1] for f in feats], [32, 16, 8, 4])
        # slide inference on a larger, non-square image
        seg.eval()
        big = torch.randn(1, 3, 96, 80)
        meta = dict(img_shape=(96, 80), ori_shape=(96, 80),
                    pad_shape=(96, 80))
        with torch.no_grad():
            logits = seg.inference(big, [meta])
        self.assertEqual(logits.shape, (1, 5, 96, 80))

    def test_layer_decay_constructor_sees_beit(self):
        from mmseg.engine.optimizers import LayerDecayOptimizerConstructor
        seg, cfg = tiny_segmentor()
        constructor = LayerDecayOptimizerConstructor(
            dict(
                type='OptimWrapper',
                optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05)),
            dict(num_layers=L, layer_decay_rate=0.75))
        optim = constructor(seg)
        lr_of = {}
        for g in optim.optimizer.param_groups:
            for n in g['param_names']:
                lr_of[n] = (g['lr'], g['weight_decay'])
        self.assertAlmostEqual(lr_of['backbone.cls_token'][0], 0.75**(L + 1))
        self.assertAlmostEqual(
            lr_of['backbone.layers.0.attn.qkv.weight'][0], 0.75**L)
        self.assertAlmostEqual(
            lr_of['backbone.layers.3.attn.relative_position_bias_table'][0],
            0.75)
        self.assertAlmostEqual(lr_of['decode_head.conv_seg.weight'][0], 1.0)
        # biases and 1-D params not decayed; with the 'backbone.' prefix
        # cls_token is decayed, as in the official seg code (docs/official.md
        # §4)
        self.assertEqual(lr_of['backbone.layers.0.attn.q_bias'][1], 0.)
        self.assertEqual(lr_of['backbone.cls_token'][1], 0.05)
        self.assertEqual(cfg.optim_wrapper.paramwise_cfg.layer_decay_rate,
                         0.75)
