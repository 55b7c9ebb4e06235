# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Fine-tuning from a pretraining checkpoint loads every backbone weight
(docs/official.md §3.2): shared table -> per-block tables, resized at another
resolution, nothing silently missing."""
from unittest import TestCase

import torch
from mmengine.runner import load_checkpoint

from mmbeitv2.models import BEiTv2ViT
from mmbeitv2.checkpoint.rel_pos_resize import resize_rel_pos_bias_table
from mmbeitv2.checkpoint import (convert_beitv2_finetune,
                                 convert_beitv2_pretrain)

C, L, HEADS, FFN = 64, 2, 2, 256
ARCH = dict(
    embed_dims=C, num_layers=L, num_heads=HEADS, feedforward_channels=FFN)


def official_pretrain_state_dict(grid: int = 4) -> dict:
    """Random tensors in the official pretraining layout
    (docs/official.md Appendix A), tiny arch, patch 8."""
    g = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=g)

    n = (2 * grid - 1)**2 + 3
    sd = {
        'cls_token': r(1, 1, C),
        'mask_token': r(1, 1, C),
        'patch_embed.proj.weight': r(C, 3, 8, 8),
        'patch_embed.proj.bias': r(C),
        'rel_pos_bias.relative_position_bias_table': r(n, HEADS),
        'rel_pos_bias.relative_position_index': torch.zeros(
            grid * grid + 1, grid * grid + 1, dtype=torch.long),
        'norm.weight': r(C),
        'norm.bias': r(C),
        'lm_head.weight': r(16, C),
        'lm_head.bias': r(16),
    }
    for prefix in [f'blocks.{i}.' for i in range(L)] + ['cls_pt_layers.0.']:
        sd.update({
            prefix + 'gamma_1': r(C),
            prefix + 'gamma_2': r(C),
            prefix + 'norm1.weight': r(C),
            prefix + 'norm1.bias': r(C),
            prefix + 'attn.q_bias': r(C),
            prefix + 'attn.v_bias': r(C),
            prefix + 'attn.qkv.weight': r(3 * C, C),
            prefix + 'attn.proj.weight': r(C, C),
            prefix + 'attn.proj.bias': r(C),
            prefix + 'norm2.weight': r(C),
            prefix + 'norm2.bias': r(C),
            prefix + 'mlp.fc1.weight': r(FFN, C),
            prefix + 'mlp.fc1.bias': r(FFN),
            prefix + 'mlp.fc2.weight': r(C, FFN),
            prefix + 'mlp.fc2.bias': r(C),
        })
    return sd


def finetune_backbone(img_size: int = 32, **kwargs) -> BEiTv2ViT:
    return BEiTv2ViT(
        arch=ARCH,
        img_size=img_size,
        patch_size=8,
        out_type='avg_featmap',
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        init_style='finetune',
        **kwargs)


class TestFinetuneLoading(TestCase):

    def setUp(self):
        self.official = official_pretrain_state_dict()
        self.converted = convert_beitv2_pretrain(self.official)
        self.shared = self.official[
            'rel_pos_bias.relative_position_bias_table']

    def _load(self, model):
        backbone = {
            k[len('backbone.'):]: v.clone()
            for k, v in self.converted.items() if k.startswith('backbone.')
        }
        return model.load_state_dict(backbone, strict=False)

    def test_only_fc_norm_missing_at_same_size(self):
        model = finetune_backbone(32)
        result = self._load(model)
        # docs/official.md §3.2.6: fc_norm is new; the mask token is not used.
        self.assertEqual(sorted(result.missing_keys),
                         ['ln2.bias', 'ln2.weight'])
        self.assertEqual(result.unexpected_keys, ['mask_token'])
        for i in range(L):
            torch.testing.assert_close(
                model.layers[i].attn.relative_position_bias_table.data,
                self.shared, rtol=0, atol=0)
            torch.testing.assert_close(
                model.layers[i].ffn.layers[0][0].weight.data,
                self.official[f'blocks.{i}.mlp.fc1.weight'], rtol=0, atol=0)
            torch.testing.assert_close(
                model.layers[i].gamma_2.data,
                self.official[f'blocks.{i}.gamma_2'], rtol=0, atol=0)
        torch.testing.assert_close(
            model.patch_embed.projection.weight.data,
            self.official['patch_embed.proj.weight'], rtol=0, atol=0)

    def test_resized_tables_at_another_resolution(self):
        model = finetune_backbone(48)  # 6x6 grid, 11x11 relative grid
        result = self._load(model)
        self.assertEqual(sorted(result.missing_keys),
                         ['ln2.bias', 'ln2.weight'])
        expected = resize_rel_pos_bias_table(self.shared, (6, 6))
        self.assertEqual(expected.shape, (124, HEADS))
        for i in range(L):
            attn = model.layers[i].attn
            torch.testing.assert_close(
                attn.relative_position_bias_table.data, expected, rtol=0,
                atol=0)
            # the index is this model's, not the checkpoint's zeros
            self.assertEqual(attn.relative_position_index.shape, (37, 37))
            self.assertEqual(int(attn.relative_position_index.max()), 123)
        out = model(torch.randn(2, 3, 48, 48))[-1]
        self.assertEqual(out.shape, (2, C))

    def test_init_cfg_pretrained_prefix(self):
        # The path of the configs: a full model checkpoint (backbone, neck,
        # head) read with prefix 'backbone.'.
        path = self._tmp_ckpt({'state_dict': dict(self.converted)})
        model = finetune_backbone(
            32,
            init_cfg=dict(
                type='Pretrained', checkpoint=path, prefix='backbone.'))
        model.init_weights()
        for name, param in model.named_parameters():
            if name.startswith('ln2.'):
                continue  # fresh fc_norm
            src = self.shared if name.endswith('bias_table') else \
                self.converted['backbone.' + name]
            torch.testing.assert_close(param.data, src, rtol=0, atol=0,
                                       msg=f'{name} not loaded')

    def test_official_finetune_layout_loads(self):
        # An official fine-tuned model (per-block tables, fc_norm, head).
        sd = {
            k: v
            for k, v in self.official.items()
            if not k.startswith(('rel_pos_bias', 'mask_token', 'norm.',
                                 'lm_head', 'cls_pt_layers'))
        }
        for i in range(L):
            sd[f'blocks.{i}.attn.relative_position_bias_table'] = \
                self.shared + i
        sd['fc_norm.weight'] = torch.full((C, ), 2.)
        sd['fc_norm.bias'] = torch.full((C, ), .5)
        sd['head.weight'] = torch.zeros(10, C)
        sd['head.bias'] = torch.zeros(10)
        converted = convert_beitv2_finetune(sd)
        model = finetune_backbone(32)
        path = self._tmp_ckpt({'state_dict': converted})
        load_checkpoint(model, path, revise_keys=[(r'^backbone\.', '')],
                        strict=False)
        torch.testing.assert_close(model.ln2.weight.data, sd['fc_norm.weight'])
        torch.testing.assert_close(
            model.layers[1].attn.relative_position_bias_table.data,
            self.shared + 1)

    def _tmp_ckpt(self, obj) -> str:
        import tempfile
        self._tmpdir = tempfile.TemporaryDirectory()
        path = f'{self._tmpdir.name}/ckpt.pth'
        torch.save(obj, path)
        return path

    def tearDown(self):
        if hasattr(self, '_tmpdir'):
            self._tmpdir.cleanup()
