# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Pure key maps between ``BEiTv2ViT`` (+ linear head) and Hugging Face
transformers' ``BeitModel`` / ``BeitForImageClassification`` (transformers
5.x ``models/beit/modeling_beit.py``), and the ``BeitConfig`` fields that
make the two compute the same thing.

HF names: ``embeddings.{cls_token,mask_token,position_embeddings,
patch_embeddings.projection}``, ``layers.i.{layernorm_before,
layernorm_after,lambda_1,lambda_2,attention.{q,k,v,o}_proj,mlp.fc1/fc2,
relative_position_bias.relative_position_bias_table}``,
``shared_position_bias.relative_position_bias_table``, ``layernorm`` (final
norm without mean pooling), ``pooler.layernorm`` (mean pooling) and
``classifier``; ``BeitForImageClassification`` prefixes the model with
``beit.``. Our fused ``qkv`` (no k bias) is split into q/k/v projections.

Files on disk (``save_pretrained`` of transformers 5, and the Hub's BEiT
checkpoints) keep the classic names (``encoder.layer.i.attention.attention.
query``, ``intermediate.dense``, ``encoder.relative_position_bias``, ...);
``hf_to_mmbeitv2`` reads both.
"""
import re
from collections import OrderedDict
from typing import Dict, Optional

import torch

Tensors = Dict[str, torch.Tensor]

_BLOCK = (
    ('ln1.', 'layernorm_before.'),
    ('ln2.', 'layernorm_after.'),
    ('gamma_1', 'lambda_1'),
    ('gamma_2', 'lambda_2'),
    ('ffn.layers.0.0.', 'mlp.fc1.'),
    ('ffn.layers.1.', 'mlp.fc2.'),
    ('attn.proj.', 'attention.o_proj.'),
    ('attn.relative_position_bias_table',
     'relative_position_bias.relative_position_bias_table'),
)
_TOP = (
    ('cls_token', 'embeddings.cls_token'),
    ('mask_token', 'embeddings.mask_token'),
    ('pos_embed', 'embeddings.position_embeddings'),
    ('patch_embed.projection.', 'embeddings.patch_embeddings.projection.'),
    ('rel_pos_bias.relative_position_bias_table',
     'shared_position_bias.relative_position_bias_table'),
    ('ln1.', 'layernorm.'),
    ('ln2.', 'pooler.layernorm.'),
)

# Classic (on-disk) names inside ``encoder.layer.i.`` -> transformers 5's.
_CLASSIC_BLOCK = (
    ('attention.attention.query.', 'attention.q_proj.'),
    ('attention.attention.key.', 'attention.k_proj.'),
    ('attention.attention.value.', 'attention.v_proj.'),
    ('attention.output.dense.', 'attention.o_proj.'),
    ('attention.attention.relative_position_bias.',
     'relative_position_bias.'),
    ('intermediate.dense.', 'mlp.fc1.'),
    ('output.dense.', 'mlp.fc2.'),
)


def classic_hf_key_to_modern(key: str) -> str:
    """``encoder.layer.3.intermediate.dense.weight`` ->
    ``layers.3.mlp.fc1.weight``; other keys unchanged."""
    if key.startswith('encoder.relative_position_bias.'):
        return 'shared_position_bias.' + key[len(
            'encoder.relative_position_bias.'):]
    m = re.match(r'encoder\.layer\.(\d+)\.(.*)', key)
    if m is None:
        return key
    rest = _rename(m.group(2), _CLASSIC_BLOCK) or m.group(2)
    return f'layers.{m.group(1)}.{rest}'


def _rename(key: str, rules, reverse: bool = False) -> Optional[str]:
    for a, b in rules:
        old, new = (b, a) if reverse else (a, b)
        if key.startswith(old):
            return new + key[len(old):]
    return None


def hf_config_kwargs(settings: dict, num_labels: int = 0) -> dict:
    """``BeitConfig`` kwargs of a ``BEiTv2ViT`` (settings as
    ``infer_settings`` returns them).

    Mean pooling (``pooler.layernorm`` = our ``ln2``) unless the model has
    only a final norm (``ln1``, [CLS] pooling); LayerNorm eps 1e-6 (HF's
    default is 1e-12); layer scale on iff the checkpoint has it.
    """
    if settings['final_norm'] and settings['out_type'] == 'avg_featmap':
        raise ValueError('BEiTv2ViT with both a final norm (ln1) and a '
                         'pooled norm (ln2) has no BeitConfig equivalent')
    arch = settings['arch']
    kwargs = dict(
        hidden_size=arch['embed_dims'],
        num_hidden_layers=arch['num_layers'],
        num_attention_heads=arch['num_heads'],
        intermediate_size=arch['feedforward_channels'],
        hidden_act='gelu',
        hidden_dropout_prob=0.,
        attention_probs_dropout_prob=0.,
        layer_norm_eps=1e-6,
        image_size=settings['img_size'],
        patch_size=settings['patch_size'],
        num_channels=settings['in_channels'],
        use_mask_token=False,
        use_absolute_position_embeddings=settings['use_abs_pos_emb'],
        use_relative_position_bias=settings['use_rel_pos_bias'],
        use_shared_relative_position_bias=settings[
            'use_shared_rel_pos_bias'],
        layer_scale_init_value=settings['layer_scale_init_value'],
        use_mean_pooling=not settings['final_norm'])
    if num_labels:
        kwargs['num_labels'] = num_labels
    return kwargs


def mmbeitv2_to_hf(backbone: Tensors, head: Optional[dict] = None,
                   prefix: str = '') -> 'OrderedDict':
    """Bare ``BEiTv2ViT`` keys (+ linear head) -> HF BEiT keys.

    Args:
        backbone (dict): Bare ``BEiTv2ViT`` keys.
        head (dict, optional): ``weight``/``bias`` of the classifier.
            Defaults to None.
        prefix (str): ``'beit.'`` for ``BeitForImageClassification``.
            Defaults to ``''``.

    Returns:
        OrderedDict: HF keys (``relative_position_index`` dropped).
    """
    out = OrderedDict()
    for key, value in backbone.items():
        if key.endswith('relative_position_index'):
            continue
        m = re.match(r'layers\.(\d+)\.(.*)', key)
        if m is None:
            new = _rename(key, _TOP)
            if new is None:
                raise KeyError(f'BEiTv2ViT key {key} has no HF BEiT '
                               'counterpart')
            out[prefix + new] = value
            continue
        layer, rest = f'{prefix}layers.{m.group(1)}.', m.group(2)
        if rest == 'attn.qkv.weight':
            for name, w in zip('qkv', value.chunk(3, dim=0)):
                out[f'{layer}attention.{name}_proj.weight'] = w.clone()
        elif rest in ('attn.q_bias', 'attn.v_bias'):
            out[f'{layer}attention.{rest[5]}_proj.bias'] = value
        else:
            new = _rename(rest, _BLOCK)
            if new is None:
                raise KeyError(f'BEiTv2ViT key {key} has no HF BEiT '
                               'counterpart')
            out[layer + new] = value
    if head is not None:
        out['classifier.weight'] = head['weight']
        if head.get('bias') is not None:
            out['classifier.bias'] = head['bias']
    return out


def hf_to_mmbeitv2(state_dict: Tensors) -> 'OrderedDict':
    """HF ``BeitModel`` / ``BeitForImageClassification`` keys -> an
    mmbeitv2 ``ImageClassifier`` state dict (``backbone.*``, and
    ``head.fc.*`` with a classifier). A missing k bias stays zero (our
    ``qkv`` has none); a k bias that is not zero cannot be represented.
    """
    sd = OrderedDict(
        (classic_hf_key_to_modern(k[len('beit.'):] if k.startswith('beit.')
                                  else k), v)
        for k, v in state_dict.items())
    out = OrderedDict()
    qkv = {}
    for key, value in sd.items():
        if key.endswith('relative_position_index'):
            continue
        if key.startswith('classifier.'):
            out['head.fc.' + key[len('classifier.'):]] = value
            continue
        m = re.match(r'layers\.(\d+)\.(.*)', key)
        if m is None:
            new = _rename(key, _TOP, reverse=True)
            if new is None:
                raise KeyError(f'HF BEiT key {key} has no BEiTv2ViT '
                               'counterpart')
            out['backbone.' + new] = value
            continue
        i, rest = m.group(1), m.group(2)
        layer = f'backbone.layers.{i}.'
        pm = re.match(r'attention\.([qkv])_proj\.(weight|bias)', rest)
        if pm:
            name, kind = pm.groups()
            if kind == 'weight':
                qkv.setdefault(i, {})[name] = value
            elif name == 'k':
                if value.abs().max() > 0:
                    raise ValueError(f'HF key {key}: BEiT v2 has no k bias')
            else:
                out[f'{layer}attn.{name}_bias'] = value
            continue
        new = _rename(rest, _BLOCK, reverse=True)
        if new is None:
            raise KeyError(f'HF BEiT key {key} has no BEiTv2ViT '
                           'counterpart')
        out[layer + new] = value
    for i, w in qkv.items():
        out[f'backbone.layers.{i}.attn.qkv.weight'] = torch.cat(
            [w['q'], w['k'], w['v']], dim=0)
    return out
