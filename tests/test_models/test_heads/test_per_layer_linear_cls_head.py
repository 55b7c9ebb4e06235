# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Linear probing (docs/official.md §3.5): the frozen backbone never runs
backward; the per-layer probe and its metric."""
from unittest import TestCase

import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmbeitv2.evaluation import PerLayerAccuracy
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

C, L = 32, 3
ARCH = dict(embed_dims=C, num_layers=L, num_heads=2, feedforward_channels=64)


def probe(per_layer: bool) -> torch.nn.Module:
    register_all_modules()
    backbone = dict(
        type='BEiTv2ViT',
        arch=ARCH,
        img_size=32,
        patch_size=8,
        use_shared_rel_pos_bias=True,
        use_rel_pos_bias=False,
        frozen=True)
    if per_layer:
        backbone.update(out_type='raw', out_indices=list(range(L)))
        head = dict(
            type='PerLayerLinearClsHead',
            num_classes=5,
            in_channels=C,
            num_layers=L)
        neck = None
    else:
        backbone.update(out_type='cls_token')
        head = dict(type='LinearClsHead', num_classes=5, in_channels=C)
        neck = dict(type='ClsBatchNormNeck', input_features=C)
    model = MODELS.build(
        dict(type='ImageClassifier', backbone=backbone, neck=neck, head=head))
    model.init_weights()
    return model


def batch(n: int = 4) -> dict:
    torch.manual_seed(0)
    return dict(
        inputs=list(torch.randint(0, 255, (n, 3, 32, 32), dtype=torch.uint8)),
        data_samples=[DataSample().set_gt_label(i % 5) for i in range(n)])


class TestLinearProbe(TestCase):

    def _check_no_backbone_backward(self, per_layer: bool):
        model = probe(per_layer)
        model.train()
        # frozen: eval mode kept, nothing trainable in the backbone
        self.assertFalse(model.backbone.training)
        self.assertFalse(
            any(p.requires_grad for p in model.backbone.parameters()))
        calls = []
        for layer in model.backbone.layers:
            layer.register_full_backward_hook(
                lambda *args: calls.append(1))
        feats = model.extract_feat(torch.randn(2, 3, 32, 32))
        self.assertTrue(all(not f.requires_grad for f in feats))
        before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
        head_before = [p.clone() for p in model.head.parameters()]
        optim = OptimWrapper(
            torch.optim.SGD(
                [p for p in model.parameters() if p.requires_grad], lr=0.1))
        losses = model.train_step(batch(), optim)
        self.assertTrue(torch.isfinite(losses['loss']))
        self.assertEqual(calls, [])  # no backward through any block
        for p in model.backbone.parameters():
            self.assertIsNone(p.grad)
        for k, v in model.backbone.state_dict().items():
            torch.testing.assert_close(v, before[k], rtol=0, atol=0)
        self.assertTrue(
            any(not torch.equal(a, b)
                for a, b in zip(head_before, model.head.parameters())))

    def test_cls_token_probe_no_backbone_backward(self):
        self._check_no_backbone_backward(per_layer=False)

    def test_per_layer_probe_no_backbone_backward(self):
        self._check_no_backbone_backward(per_layer=True)

    def test_per_layer_features_and_loss(self):
        model = probe(per_layer=True)
        head = model.head
        self.assertEqual(len(head.fcs), L)
        self.assertEqual(head.fcs[0].in_features, 2 * C)  # [cls; mean]
        x = torch.randn(4, 17, C)
        feats = head.pre_logits([x] * L)
        bn = torch.nn.functional.batch_norm(
            torch.cat([x[:, 0], x[:, 1:].mean(1)], 1), None, None,
            training=True, eps=1e-6)
        torch.testing.assert_close(feats[0], bn)
        samples = batch()['data_samples']
        # different features per layer, so a loss that used one layer's
        # scores for all (or summed the wrong ones) shows
        xs = [torch.randn(4, 17, C, generator=torch.Generator().manual_seed(i))
              for i in range(L)]
        losses = head.loss(xs, samples)
        labels = torch.tensor([s.gt_label.item() for s in samples])
        expected = []
        for i, xi in enumerate(xs):  # BN (batch statistics), fc, CE
            f = torch.nn.functional.batch_norm(
                torch.cat([xi[:, 0], xi[:, 1:].mean(1)], 1), None, None,
                training=True, eps=1e-6)
            scores = f @ head.fcs[i].weight.t() + head.fcs[i].bias
            expected.append(
                torch.nn.functional.cross_entropy(scores, labels))
        for i in range(L):
            torch.testing.assert_close(losses[f'layer{i}_ce'], expected[i])
        assert len(set(round(e.item(), 6) for e in expected)) == L
        torch.testing.assert_close(losses['loss'], sum(expected))
        with self.assertRaisesRegex(ValueError, 'outputs for'):
            head([x] * (L - 1))
        with self.assertRaisesRegex(ValueError, 'unknown feature'):
            MODELS.build(
                dict(
                    type='PerLayerLinearClsHead',
                    num_classes=5,
                    in_channels=C,
                    num_layers=L,
                    feature='avg'))

    def test_per_layer_accuracy(self):
        metric = PerLayerAccuracy()
        # 2 layers; layer 1 right on both samples, layer 0 on one
        samples = [
            dict(
                layer_scores=torch.tensor([[.9, .1], [.2, .8]]),
                gt_label=torch.tensor([1])),
            dict(
                layer_scores=torch.tensor([[.1, .9], [.3, .7]]),
                gt_label=torch.tensor([1])),
        ]
        metric.process(None, samples)
        out = metric.compute_metrics(metric.results)
        self.assertEqual(out['layer0_top1'], 50.)
        self.assertEqual(out['layer1_top1'], 100.)
        self.assertEqual(out['best_top1'], 100.)
        self.assertEqual(out['best_layer'], 1)
