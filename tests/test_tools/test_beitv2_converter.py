# Copyright (c) mmbeitv2 contributors. All rights reserved.
import importlib.util
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from tiny_models import finetune_backbone, pretrain_parts
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules
from mmbeitv2.checkpoint import (convert_beitv2_finetune_key,
                                 convert_beitv2_pretrain_key,
                                 unwrap_state_dict)

register_all_modules()
ROOT = osp.join(osp.dirname(__file__), '..', '..')
C, HEADS, FFN, DEPTH, EARLY, K, GRID = 64, 2, 128, 4, 3, 32, 4


def _tool(name):
    path = osp.join(ROOT, 'tools', 'model_converters', name + '.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _official_block(prefix, per_block_table=False):
    """One block in the exact official layout (docs/official.md Appendix A)."""
    sd = OrderedDict()
    sd[prefix + 'gamma_1'] = torch.randn(C)
    sd[prefix + 'gamma_2'] = torch.randn(C)
    sd[prefix + 'norm1.weight'] = torch.randn(C)
    sd[prefix + 'norm1.bias'] = torch.randn(C)
    sd[prefix + 'attn.q_bias'] = torch.randn(C)
    sd[prefix + 'attn.v_bias'] = torch.randn(C)
    if per_block_table:
        n = (2 * GRID - 1)**2 + 3
        sd[prefix + 'attn.relative_position_bias_table'] = torch.randn(
            n, HEADS)
        sd[prefix + 'attn.relative_position_index'] = torch.zeros(
            GRID * GRID + 1, GRID * GRID + 1, dtype=torch.long)
    sd[prefix + 'attn.qkv.weight'] = torch.randn(3 * C, C)
    sd[prefix + 'attn.proj.weight'] = torch.randn(C, C)
    sd[prefix + 'attn.proj.bias'] = torch.randn(C)
    sd[prefix + 'norm2.weight'] = torch.randn(C)
    sd[prefix + 'norm2.bias'] = torch.randn(C)
    sd[prefix + 'mlp.fc1.weight'] = torch.randn(FFN, C)
    sd[prefix + 'mlp.fc1.bias'] = torch.randn(FFN)
    sd[prefix + 'mlp.fc2.weight'] = torch.randn(C, FFN)
    sd[prefix + 'mlp.fc2.bias'] = torch.randn(C)
    return sd


def official_pretrain_sd():
    torch.manual_seed(0)
    sd = OrderedDict(
        cls_token=torch.randn(1, 1, C), mask_token=torch.randn(1, 1, C))
    sd['patch_embed.proj.weight'] = torch.randn(C, 3, 8, 8)
    sd['patch_embed.proj.bias'] = torch.randn(C)
    sd['rel_pos_bias.relative_position_bias_table'] = torch.randn(
        (2 * GRID - 1)**2 + 3, HEADS)
    sd['rel_pos_bias.relative_position_index'] = torch.zeros(
        GRID * GRID + 1, GRID * GRID + 1, dtype=torch.long)
    for i in range(DEPTH):
        sd.update(_official_block(f'blocks.{i}.'))
    sd['norm.weight'], sd['norm.bias'] = torch.randn(C), torch.randn(C)
    sd['lm_head.weight'], sd['lm_head.bias'] = torch.randn(K, C), \
        torch.randn(K)
    for i in range(2):
        sd.update(_official_block(f'cls_pt_layers.{i}.'))
    return sd


def official_finetune_sd(num_classes=10):
    torch.manual_seed(1)
    sd = OrderedDict(cls_token=torch.randn(1, 1, C))
    sd['patch_embed.proj.weight'] = torch.randn(C, 3, 8, 8)
    sd['patch_embed.proj.bias'] = torch.randn(C)
    for i in range(DEPTH):
        sd.update(_official_block(f'blocks.{i}.', per_block_table=True))
    sd['fc_norm.weight'], sd['fc_norm.bias'] = torch.randn(C), torch.randn(C)
    sd['head.weight'] = torch.randn(num_classes, C)
    sd['head.bias'] = torch.randn(num_classes)
    return sd


ARCH = dict(
    embed_dims=C, num_layers=DEPTH, num_heads=HEADS, feedforward_channels=FFN)


def pretrain_model():
    """BEiTv2 without its tokenizer: backbone + neck + head."""
    return pretrain_parts(ARCH, early_layers=EARLY, num_embed=K)


@pytest.mark.parametrize('wrap', ['model', 'module', 'state_dict', None])
def test_pretrain_layout_converts_and_loads_strictly(tmp_path, wrap):
    sd = official_pretrain_sd()
    assert len(sd) == 6 + 15 * (DEPTH + 2) + 4
    ckpt = sd if wrap is None else {wrap: sd, 'epoch': 3}
    if wrap == 'module':  # DDP-style prefixed keys
        ckpt = {'module': {'module.' + k: v for k, v in sd.items()}}
    src, dst = tmp_path / 'official.pth', tmp_path / 'mm.pth'
    torch.save(ckpt, src)
    _tool('beitv2_unilm_to_mmbeitv2').main([str(src), str(dst)])
    out = torch.load(dst, weights_only=True)['state_dict']
    # every tensor but the recomputed relative_position_index is kept
    assert len(out) == len(sd) - 1
    model = pretrain_model()
    result = model.load_state_dict(out, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    own = model.state_dict()
    # values land where they belong
    pairs = [('blocks.2.mlp.fc1.weight', 'backbone.layers.2.ffn.layers.0.0.'
              'weight'), ('blocks.0.norm1.bias', 'backbone.layers.0.ln1.bias'),
             ('patch_embed.proj.weight',
              'backbone.patch_embed.projection.weight'),
             ('cls_pt_layers.1.mlp.fc2.weight',
              'neck.patch_aggregation.1.ffn.layers.1.weight'),
             ('cls_pt_layers.0.gamma_2', 'neck.patch_aggregation.0.gamma_2'),
             ('norm.weight', 'neck.norm.weight'),
             ('lm_head.weight', 'head.cls_head.weight'),
             ('rel_pos_bias.relative_position_bias_table',
              'backbone.rel_pos_bias.relative_position_bias_table'),
             ('mask_token', 'backbone.mask_token')]
    for src_key, dst_key in pairs:
        assert torch.equal(own[dst_key], sd[src_key]), dst_key


def test_pretrain_checkpoint_feeds_a_finetune_backbone(tmp_path):
    """Converted pretraining weights load downstream with
    ``Pretrained, prefix='backbone.'``; the shared table is copied to every
    block."""
    src, dst = tmp_path / 'official.pth', tmp_path / 'mm.pth'
    sd = official_pretrain_sd()
    torch.save({'model': sd}, src)
    _tool('beitv2_unilm_to_mmbeitv2').main([str(src), str(dst)])
    backbone = MODELS.build(
        finetune_backbone(
            ARCH,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(dst), prefix='backbone.')))
    backbone.init_weights()
    table = sd['rel_pos_bias.relative_position_bias_table']
    for layer in backbone.layers:
        assert torch.equal(layer.attn.relative_position_bias_table, table)
    assert torch.equal(backbone.layers[3].attn.qkv.weight,
                       sd['blocks.3.attn.qkv.weight'])


def test_finetune_layout_converts_and_loads_strictly(tmp_path):
    sd = official_finetune_sd()
    src, dst = tmp_path / 'ft.pth', tmp_path / 'mm_ft.pth'
    torch.save({'model': sd}, src)
    _tool('beitv2_unilm_to_mmbeitv2').main([str(src), str(dst)])
    out = torch.load(dst, weights_only=True)['state_dict']
    assert len(out) == len(sd) - DEPTH  # per-block indices dropped
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=finetune_backbone(ARCH),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=C)))
    result = model.load_state_dict(out, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(model.backbone.ln2.weight, sd['fc_norm.weight'])
    assert torch.equal(model.head.fc.weight, sd['head.weight'])
    assert torch.equal(
        model.backbone.layers[1].attn.relative_position_bias_table,
        sd['blocks.1.attn.relative_position_bias_table'])


def test_key_rules():
    assert convert_beitv2_pretrain_key(
        'blocks.11.attn.relative_position_index') is None
    assert convert_beitv2_pretrain_key('blocks.11.mlp.fc2.bias') == \
        'backbone.layers.11.ffn.layers.1.bias'
    assert convert_beitv2_finetune_key('norm.weight') == \
        'backbone.ln1.weight'
    assert convert_beitv2_finetune_key('head.bias', 'head.layers.0.') == \
        'head.layers.0.bias'
    with pytest.raises(KeyError, match='unknown key'):
        convert_beitv2_pretrain_key('decoder.blocks.0.norm1.weight')
    sd, source = unwrap_state_dict({'state_dict': {'module.a': 1}})
    assert source == 'state_dict' and dict(sd) == {'a': 1}


def test_extract_backbone(tmp_path):
    src, mm, dst = (tmp_path / 'official.pth', tmp_path / 'mm.pth',
                    tmp_path / 'bb.pth')
    torch.save({'model': official_pretrain_sd()}, src)
    _tool('beitv2_unilm_to_mmbeitv2').main([str(src), str(mm)])
    full = torch.load(mm, weights_only=True)['state_dict']
    full['target_generator.quantize.embedding.weight'] = torch.randn(K, 16)
    # as mmengine saves it: the message hub pickles HistoryBuffer + numpy
    from mmengine.logging import HistoryBuffer
    buf = HistoryBuffer()
    buf.update(1.5)
    torch.save({'state_dict': full, 'meta': {'epoch': 1},
                'message_hub': {'log_scalars': {'loss': buf}}}, mm)
    # not a plain tensor file: torch's default allow-list refuses it (the
    # tests' conftest removes mmbeitv2's after each test)
    assert HistoryBuffer not in torch.serialization.get_safe_globals()
    with pytest.raises(Exception, match='HistoryBuffer'):
        torch.load(mm, weights_only=True)
    tool = _tool('extract_backbone')
    tool.main([str(mm), str(dst)])
    out = torch.load(dst, weights_only=True)['state_dict']
    assert set(out) == {k for k in full if k.startswith('backbone.')}
    assert len(out) == 5 + 15 * DEPTH
    tool.main([str(mm), str(dst), '--strip-prefix'])
    bare = torch.load(dst, weights_only=True)['state_dict']
    backbone = MODELS.build(
        dict(
            type='BEiTv2ViT',
            arch=ARCH,
            img_size=32,
            patch_size=8,
            with_mask_token=True,
            out_type='raw',
            use_shared_rel_pos_bias=True,
            use_rel_pos_bias=False))
    result = backbone.load_state_dict(bare, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
