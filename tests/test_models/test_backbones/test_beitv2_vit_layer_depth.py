# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Layer-wise lr decay of fine-tuning (docs/official.md §3.3) through
mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` and the fine-tune
config's paramwise settings."""
from unittest import TestCase

from mmpretrain.engine.optimizers import \
    LearningRateDecayOptimWrapperConstructor

from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

L, DECAY, LR, WD = 4, 0.6, 5e-4, 0.05


class TestLayerDepth(TestCase):

    def setUp(self):
        register_all_modules()
        self.model = MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(
                    type='BEiTv2ViT',
                    arch=dict(
                        embed_dims=32,
                        num_layers=L,
                        num_heads=2,
                        feedforward_channels=64),
                    img_size=32,
                    patch_size=8,
                    out_type='avg_featmap',
                    use_rel_pos_bias=True,
                    use_shared_rel_pos_bias=False,
                    init_style='finetune'),
                head=dict(
                    type='LinearClsHead', num_classes=10, in_channels=32)))

    def test_layer_ids(self):
        depth = self.model.get_layer_depth
        self.assertEqual(depth('backbone.cls_token'), (0, L + 2))
        self.assertEqual(depth('backbone.patch_embed.projection.weight'),
                         (0, L + 2))
        self.assertEqual(depth('backbone.layers.0.attn.qkv.weight'),
                         (1, L + 2))
        self.assertEqual(
            depth('backbone.layers.3.attn.relative_position_bias_table'),
            (4, L + 2))
        self.assertEqual(depth('backbone.ln2.weight'), (L + 1, L + 2))
        self.assertEqual(depth('head.fc.weight'), (L + 1, L + 2))

    def test_optimizer_groups(self):
        constructor = LearningRateDecayOptimWrapperConstructor(
            dict(
                type='OptimWrapper',
                optimizer=dict(type='AdamW', lr=LR, weight_decay=WD)),
            # as configs/beitv2/benchmarks fine-tune configs
            dict(
                layer_decay_rate=DECAY,
                flat_decay_mult=0.0,
                custom_keys={
                    '.cls_token': dict(decay_mult=0.0),
                    '.pos_embed': dict(decay_mult=0.0)
                }))
        optim = constructor(self.model)
        groups = {
            g['param_name']: g
            for g in optim.optimizer.param_groups
        }
        # every trainable parameter is in a group
        self.assertEqual(
            set(groups),
            {n for n, p in self.model.named_parameters() if p.requires_grad})
        # scale = decay^(L+1-id) (docs/official.md §3.3)
        self.assertAlmostEqual(groups['backbone.cls_token']['lr'],
                               LR * DECAY**(L + 1))
        self.assertAlmostEqual(
            groups['backbone.layers.0.attn.proj.weight']['lr'],
            LR * DECAY**L)
        self.assertAlmostEqual(
            groups['backbone.layers.3.ffn.layers.1.weight']['lr'], LR * DECAY)
        self.assertAlmostEqual(groups['head.fc.weight']['lr'], LR)
        self.assertAlmostEqual(groups['backbone.ln2.weight']['lr'], LR)
        # weight decay skip: ndim <= 1 and cls_token; tables are decayed
        for name in ('backbone.cls_token', 'backbone.layers.0.attn.q_bias',
                     'backbone.layers.0.gamma_1', 'head.fc.bias',
                     'backbone.layers.1.ln1.weight'):
            self.assertEqual(groups[name]['weight_decay'], 0.0, name)
        for name in ('backbone.layers.0.attn.relative_position_bias_table',
                     'backbone.layers.0.attn.qkv.weight', 'head.fc.weight'):
            self.assertEqual(groups[name]['weight_decay'], WD, name)
