# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Pure key maps between the official BEiT v2 checkpoints (microsoft/unilm
``beit2/``) and mmbeitv2 models (official_state_dicts.md).

Pretraining layout (``VisionTransformerForMaskedImageModelingCLS``) ->
``BEiTv2`` (backbone ``BEiTv2ViT`` + ``BEiTv2Neck`` + ``MIMHead``);
fine-tuning layout (``modeling_finetune.VisionTransformer``) ->
``ImageClassifier`` with a ``BEiTv2ViT`` backbone (``out_type=
'avg_featmap'``) and a linear head. ``relative_position_index`` buffers are
dropped: every implementation recomputes them (spec §3.2.4).
"""
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch

# Inside one transformer block: official -> mmpretrain/mmbeitv2 names.
_BLOCK_RULES = (
    ('norm1.', 'ln1.'),
    ('norm2.', 'ln2.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
)


def unwrap_checkpoint(ckpt: dict) -> Tuple[Dict[str, torch.Tensor], str]:
    """The state dict inside a checkpoint, as the official loaders find it.

    Looks under ``model``, ``module`` then ``state_dict`` (spec §3.2.1,
    §4), else takes the dict itself; strips a DDP ``module.`` prefix.

    Args:
        ckpt (dict): A loaded checkpoint.

    Returns:
        tuple: The state dict and the key it came from (``''`` if bare).
    """
    source = ''
    for key in ('model', 'module', 'state_dict'):
        if isinstance(ckpt.get(key), dict):
            ckpt, source = ckpt[key], key
            break
    state_dict = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in ckpt.items())
    return state_dict, source


def convert_block_key(key: str) -> str:
    """Rename the part of a key inside one block (``norm1.weight`` ->
    ``ln1.weight``); attention keys and ``gamma_1/2`` keep their names."""
    for old, new in _BLOCK_RULES:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def _convert_common(key: str) -> Optional[str]:
    """Keys shared by the pretraining and fine-tuning layouts; None if the
    key is not one of them."""
    if key in ('cls_token', 'mask_token', 'pos_embed'):
        return 'backbone.' + key
    if key.startswith('patch_embed.proj.'):
        return 'backbone.patch_embed.projection.' + key[len('patch_embed.proj.'
                                                            ):]
    if key == 'rel_pos_bias.relative_position_bias_table':
        return 'backbone.' + key
    m = re.match(r'blocks\.(\d+)\.(.*)', key)
    if m:
        return f'backbone.layers.{m.group(1)}.' + convert_block_key(m.group(2))
    return None


def convert_beitv2_pretrain_key(key: str) -> Optional[str]:
    """One official pretraining key -> its ``BEiTv2`` key.

    Args:
        key (str): e.g. ``blocks.3.mlp.fc1.weight``, ``cls_pt_layers.0.*``,
            ``norm.weight``, ``lm_head.bias``.

    Returns:
        str | None: The mmbeitv2 key, or None for keys that are dropped
        (``relative_position_index``).

    Raises:
        KeyError: For a key of no known layout.
    """
    if key.endswith('relative_position_index'):
        return None
    new = _convert_common(key)
    if new is not None:
        return new
    if key.startswith('norm.'):
        return 'neck.' + key  # the shared final norm (spec §2.2)
    m = re.match(r'cls_pt_layers\.(\d+)\.(.*)', key)
    if m:
        return f'neck.patch_aggregation.{m.group(1)}.' + convert_block_key(
            m.group(2))
    if key.startswith('lm_head.'):
        return 'head.cls_head.' + key[len('lm_head.'):]
    raise KeyError(f'unknown key of the official pretraining layout: {key}')


def convert_beitv2_finetune_key(key: str,
                                head_prefix: str = 'head.fc.'
                                ) -> Optional[str]:
    """One official fine-tuning key -> its mmbeitv2 classifier key.

    ``fc_norm`` (norm of the mean patch token, spec §3.1) becomes the
    backbone's ``ln2`` (``out_type='avg_featmap'``), ``norm`` (only with
    ``--use_cls``) the backbone's final ``ln1``, and ``head`` the linear
    classifier under ``head_prefix``.

    Args:
        key (str): An official fine-tuning key.
        head_prefix (str): Where ``head.*`` goes. Defaults to ``'head.fc.'``
            (mmpretrain's ``LinearClsHead``).

    Returns:
        str | None: The mmbeitv2 key, or None for dropped keys.

    Raises:
        KeyError: For a key of no known layout.
    """
    if key.endswith('relative_position_index'):
        return None
    new = _convert_common(key)
    if new is not None:
        return new
    if key.startswith('fc_norm.'):
        return 'backbone.ln2.' + key[len('fc_norm.'):]
    if key.startswith('norm.'):
        return 'backbone.ln1.' + key[len('norm.'):]
    if key.startswith('head.'):
        return head_prefix + key[len('head.'):]
    raise KeyError(f'unknown key of the official fine-tuning layout: {key}')


def convert_beitv2_pretrain(
        state_dict: Dict[str,
                         torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Convert a whole official pretraining state dict (see
    :func:`convert_beitv2_pretrain_key`)."""
    out = OrderedDict()
    for key, value in state_dict.items():
        new = convert_beitv2_pretrain_key(key)
        if new is not None:
            out[new] = value
    return out


def convert_beitv2_finetune(
        state_dict: Dict[str, torch.Tensor],
        head_prefix: str = 'head.fc.') -> 'OrderedDict[str, torch.Tensor]':
    """Convert a whole official fine-tuning state dict (see
    :func:`convert_beitv2_finetune_key`)."""
    out = OrderedDict()
    for key, value in state_dict.items():
        new = convert_beitv2_finetune_key(key, head_prefix)
        if new is not None:
            out[new] = value
    return out


def is_finetune_layout(state_dict: Dict[str, torch.Tensor]) -> bool:
    """True for the fine-tuning layout (per-block tables, ``fc_norm`` or
    ``head``, no ``lm_head``/``mask_token``)."""
    keys = set(state_dict)
    if 'lm_head.weight' in keys or 'mask_token' in keys:
        return False
    return any(
        k.startswith(('fc_norm.', 'head.'))
        or k.endswith('attn.relative_position_bias_table') for k in keys)


def extract_backbone(
        state_dict: Dict[str, torch.Tensor],
        prefix: str = 'backbone.',
        strip_prefix: bool = False) -> 'OrderedDict[str, torch.Tensor]':
    """Keep only the backbone of a model state dict.

    Args:
        state_dict (dict): e.g. a ``BEiTv2`` state dict (backbone, neck,
            head, tokenizer).
        prefix (str): The backbone prefix. Defaults to ``'backbone.'``.
        strip_prefix (bool): Drop the prefix (bare backbone keys); keep it
            for ``init_cfg=dict(type='Pretrained', prefix='backbone.')``.
            Defaults to False.

    Returns:
        OrderedDict: The backbone tensors.
    """
    return OrderedDict((k[len(prefix):] if strip_prefix else k, v)
                       for k, v in state_dict.items() if k.startswith(prefix))
