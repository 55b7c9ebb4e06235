# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Pure key maps between ``BEiTv2ViT`` (+ linear head) and timm's ``Beit``
(timm ``models/beit.py``: ``beitv2_base_patch16_224`` and friends).

timm's keys are those of the official fine-tuning model
(``modeling_finetune.VisionTransformer`` of microsoft/unilm ``beit2``):
``blocks.i.norm1``, ``attn.qkv`` + ``q_bias``/``v_bias``, ``gamma_1/2``,
per-block relative position tables, ``fc_norm`` (mean pooling), ``norm``
(final norm, [CLS] pooling) and ``head``. So timm -> mmbeitv2 is the
official fine-tune map (``convert_beitv2_finetune``) and mmbeitv2 -> timm is
its inverse. timm has no shared relative position table: a pretraining
backbone's table is copied into every block, as the official fine-tuning
does (same outputs).
"""
import re
from collections import OrderedDict
from typing import Dict, Optional

import torch

from .official_keys import convert_beitv2_finetune
from .mmbeitv2_layout import expand_shared_table

Tensors = Dict[str, torch.Tensor]

# Inside one block: mmbeitv2 -> timm (inverse of the official map).
_BLOCK_RULES = (
    ('ln1.', 'norm1.'),
    ('ln2.', 'norm2.'),
    ('ffn.layers.0.0.', 'mlp.fc1.'),
    ('ffn.layers.1.', 'mlp.fc2.'),
)


def _block_key(key: str) -> str:
    for old, new in _BLOCK_RULES:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def mmbeitv2_key_to_timm(key: str) -> Optional[str]:
    """One bare ``BEiTv2ViT`` key -> its timm ``Beit`` key (None: dropped,
    i.e. the ``relative_position_index`` buffers timm recomputes).

    Raises:
        KeyError: For a key timm's ``Beit`` has no place for (e.g. a shared
            table: expand it first with ``expand_shared_table``).
    """
    if key.endswith('relative_position_index'):
        return None
    if key in ('cls_token', 'pos_embed'):
        return key
    if key.startswith('patch_embed.projection.'):
        return 'patch_embed.proj.' + key[len('patch_embed.projection.'):]
    m = re.match(r'layers\.(\d+)\.(.*)', key)
    if m:
        return f'blocks.{m.group(1)}.' + _block_key(m.group(2))
    if key.startswith('ln1.'):
        return 'norm.' + key[len('ln1.'):]
    if key.startswith('ln2.'):
        return 'fc_norm.' + key[len('ln2.'):]
    raise KeyError(f'BEiTv2ViT key {key} has no timm Beit counterpart')


def mmbeitv2_to_timm(backbone: Tensors,
                     head: Optional[dict] = None) -> 'OrderedDict':
    """A bare ``BEiTv2ViT`` state dict (+ linear head) -> timm ``Beit``.

    Args:
        backbone (dict): Bare ``BEiTv2ViT`` keys (no ``mask_token``).
        head (dict, optional): ``weight``/``bias`` of the classifier on the
            pooled feature. Defaults to None (``num_classes=0``).

    Returns:
        OrderedDict: timm keys.
    """
    num_layers = 1 + max(
        int(m.group(1)) for m in map(re.compile(r'layers\.(\d+)\.').match,
                                     backbone) if m)
    out = OrderedDict()
    for key, value in expand_shared_table(backbone, num_layers).items():
        new = mmbeitv2_key_to_timm(key)
        if new is not None:
            out[new] = value
    if head is not None:
        out['head.weight'] = head['weight']
        if head.get('bias') is not None:
            out['head.bias'] = head['bias']
    return out


def timm_to_mmbeitv2(state_dict: Tensors) -> 'OrderedDict':
    """A timm ``Beit`` state dict -> an mmbeitv2 ``ImageClassifier`` one
    (``backbone.*`` and, with a classifier, ``head.fc.*``): the official
    fine-tune map, since timm keeps the official names."""
    state_dict = OrderedDict(
        (k, v) for k, v in state_dict.items()
        if not (k.startswith('head.') and v.numel() == 0))
    return convert_beitv2_finetune(state_dict)
