# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os.path as osp
import sys

import torch
from subprocess_utils import run

from mmbeitv2.utils import register_all_modules
from mmbeitv2.checkpoint import (convert_vqkd,
                                 convert_vit_key)

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TINY = dict(embed_dims=8, num_layers=2, num_heads=2, feedforward_channels=16)
DEC = dict(TINY, num_layers=1)
CFG = dict(
    type='VQKDTokenizer',
    encoder=dict(arch=TINY, img_size=16, patch_size=8),
    decoder=dict(arch=DEC, img_size=2, patch_size=1, in_channels=4),
    quantizer=dict(num_embed=6, embed_dims=4),
    decoder_out_dims=5)


def _vit_keys(prefix, in_ch, patch, layers, tokens):
    c, f = 8, 16
    keys = {
        'cls_token': (1, 1, c),
        'pos_embed': (1, tokens + 1, c),
        'patch_embed.proj.weight': (c, in_ch, patch, patch),
        'patch_embed.proj.bias': (c, ),
        'fc_norm.weight': (c, ),
        'fc_norm.bias': (c, ),
    }
    for i in range(layers):
        keys.update({
            f'blocks.{i}.norm1.weight': (c, ),
            f'blocks.{i}.norm1.bias': (c, ),
            f'blocks.{i}.attn.q_bias': (c, ),
            f'blocks.{i}.attn.v_bias': (c, ),
            f'blocks.{i}.attn.qkv.weight': (3 * c, c),
            f'blocks.{i}.attn.proj.weight': (c, c),
            f'blocks.{i}.attn.proj.bias': (c, ),
            f'blocks.{i}.norm2.weight': (c, ),
            f'blocks.{i}.norm2.bias': (c, ),
            f'blocks.{i}.mlp.fc1.weight': (f, c),
            f'blocks.{i}.mlp.fc1.bias': (f, ),
            f'blocks.{i}.mlp.fc2.weight': (c, f),
            f'blocks.{i}.mlp.fc2.bias': (c, ),
        })
    return {prefix + k: v for k, v in keys.items()}


def official_state():
    """Official key layout (docs/official.md Appendix A), tiny sizes, every
    tensor filled with a distinct constant so its destination is known."""
    shapes = {}
    shapes.update(_vit_keys('encoder.', 3, 8, 2, 4))
    shapes.update(_vit_keys('decoder.', 4, 1, 1, 4))
    shapes.update({
        'quantize.cluster_size': (6, ),
        'quantize.embedding.weight': (6, 4),
        'quantize.embedding.cluster_size': (6, ),
        'quantize.embedding.embed_avg': (6, 4),
        'quantize.embedding.initted': (1, ),
        'encode_task_layer.0.weight': (8, 8),
        'encode_task_layer.0.bias': (8, ),
        'encode_task_layer.2.weight': (4, 8),
        'encode_task_layer.2.bias': (4, ),
        'decode_task_layer.0.weight': (8, 8),
        'decode_task_layer.0.bias': (8, ),
        'decode_task_layer.2.weight': (5, 8),
        'decode_task_layer.2.bias': (5, ),
        # Saved by the official training script; must be dropped.
        'teacher_model.visual.proj': (8, 5),
        'teacher_model.visual.conv1.weight': (8, 3, 8, 8),
        'scaling_layer.shift': (1, 3, 1, 1),
        'scaling_layer.scale': (1, 3, 1, 1),
        'loss_fn.dummy': (1, ),
    })
    return {
        k: torch.full(s, float(i + 1))
        for i, (k, s) in enumerate(shapes.items())
    }


def test_convert_vit_key():
    assert convert_vit_key('blocks.3.mlp.fc2.weight') == \
        'layers.3.ffn.layers.1.weight'
    assert convert_vit_key('blocks.0.mlp.fc1.bias') == \
        'layers.0.ffn.layers.0.0.bias'
    assert convert_vit_key('blocks.1.norm1.weight') == 'layers.1.ln1.weight'
    assert convert_vit_key('blocks.1.norm2.bias') == 'layers.1.ln2.bias'
    assert convert_vit_key('blocks.1.attn.q_bias') == 'layers.1.attn.q_bias'
    assert convert_vit_key('patch_embed.proj.weight') == \
        'patch_embed.projection.weight'


def test_every_tensor_lands_where_it_belongs():
    register_all_modules()
    from mmbeitv2.registry import MODELS
    state = official_state()
    converted, dropped = convert_vqkd(state)
    assert sorted(dropped) == sorted(
        k for k in state if k.startswith(('teacher', 'scaling', 'loss')))
    assert len(dropped) == 5
    model = MODELS.build(CFG)
    model.load_state_dict(converted, strict=True)
    own = model.state_dict()
    expected = {
        'encoder.blocks.1.mlp.fc2.weight':
        'encoder.layers.1.ffn.layers.1.weight',
        'encoder.blocks.0.norm1.bias': 'encoder.layers.0.ln1.bias',
        'encoder.patch_embed.proj.weight':
        'encoder.patch_embed.projection.weight',
        'encoder.fc_norm.weight': 'encoder_norm.weight',
        'decoder.fc_norm.bias': 'decoder_norm.bias',
        'decoder.blocks.0.attn.qkv.weight': 'decoder.layers.0.attn.qkv.weight',
        'decoder.pos_embed': 'decoder.pos_embed',
        'quantize.embedding.initted': 'quantize.embedding.initted',
        'quantize.cluster_size': 'quantize.cluster_size',
        'decode_task_layer.2.bias': 'decode_task_layer.2.bias',
    }
    for src, dst in expected.items():
        assert torch.equal(own[dst], state[src]), (src, dst)
    # The dead-code counter is mmbeitv2's own buffer: absent from official
    # files, it loads as zeros.
    assert not own.pop('quantize.steps_unused').any()
    # Every official tensor (minus the dropped) is loaded exactly once.
    kept = [k for k in state if k not in dropped]
    assert len(converted) == len(kept) == len(own)
    values = sorted(float(v.flatten()[0]) for v in own.values())
    assert values == sorted(float(state[k].flatten()[0]) for k in kept)
    assert model.quantize.initted


def test_cli(tmp_path):
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'ours.pth')
    torch.save(dict(model=official_state()), src)
    out = run([
        sys.executable,
        osp.join(ROOT, 'tools/model_converters/vqkd_unilm_to_mmbeitv2.py'),
        src, dst
    ], capture_output=True, text=True, check=True, timeout=300).stdout
    assert 'dropped 5' in out
    saved = torch.load(dst, weights_only=True)['state_dict']
    assert 'encoder_norm.weight' in saved
    assert not any(k.startswith('teacher') for k in saved)
