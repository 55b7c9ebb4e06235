# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Pure key maps from the official BEiT v2 checkpoints (microsoft/unilm
``beit2/``) to mmbeitv2 models; no I/O (docs/official.md, Appendix A).

VQ-KD tokenizer layout (``modeling_vqkd.VQKD``) -> ``VQKDTokenizer``;

Pretraining layout (``VisionTransformerForMaskedImageModelingCLS``) ->
``BEiTv2`` (backbone ``BEiTv2ViT`` + ``BEiTv2Neck`` + ``MIMHead``);
fine-tuning layout (``modeling_finetune.VisionTransformer``) ->
``ImageClassifier`` with a ``BEiTv2ViT`` backbone (``out_type=
'avg_featmap'``) and a linear head. ``relative_position_index`` buffers are
dropped: every implementation recomputes them (docs/official.md §3.2.4).
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

# Keys the official tokenizer loader deletes before its strict load
# (unilm beit2 ``modeling_vqkd.VQKD.__init__``: the teacher, its input
# scaling layer and the loss), and the teacher of an mmbeitv2 tokenizer
# (never saved by mmbeitv2, skipped if a file holds one).
DROPPED_PREFIXES = ('teacher', 'scaling', 'loss', '_teacher')

# Inside one transformer block: official -> mmpretrain/mmbeitv2 names.
_BLOCK_RULES = (
    ('norm1.', 'ln1.'),
    ('norm2.', 'ln2.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
)


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
    if key in ('cls_token', 'mask_token', 'pos_embed',
               'rel_pos_bias.relative_position_bias_table') or \
            key.startswith(('patch_embed.proj.', 'blocks.')):
        return 'backbone.' + convert_vit_key(key)
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
    return _convert_key(key, _pretrain_only, 'pretraining')


def _pretrain_only(key: str) -> Optional[str]:
    """Keys only the pretraining layout has (None if unknown)."""
    if key.startswith('norm.'):
        return 'neck.' + key  # the shared final norm (docs/official.md §2.2)
    m = re.match(r'cls_pt_layers\.(\d+)\.(.*)', key)
    if m:
        return f'neck.patch_aggregation.{m.group(1)}.' + convert_block_key(
            m.group(2))
    if key.startswith('lm_head.'):
        return 'head.cls_head.' + key[len('lm_head.'):]
    return None


def convert_beitv2_finetune_key(key: str,
                                head_prefix: str = 'head.fc.'
                                ) -> Optional[str]:
    """One official fine-tuning key -> its mmbeitv2 classifier key.

    ``fc_norm`` (norm of the mean patch token, docs/official.md §3.1) becomes
    the backbone's ``ln2`` (``out_type='avg_featmap'``), ``norm`` (only with
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
    def finetune_only(key: str) -> Optional[str]:
        for old, new in (('fc_norm.', 'backbone.ln2.'),
                         ('norm.', 'backbone.ln1.'), ('head.', head_prefix)):
            if key.startswith(old):
                return new + key[len(old):]
        return None

    return _convert_key(key, finetune_only, 'fine-tuning')


def _convert_key(key: str, layout_only, layout: str) -> Optional[str]:
    """Shared steps of both layouts: drop index buffers, map the common
    keys, then the layout's own ones; unknown keys raise."""
    if key.endswith('relative_position_index'):
        return None
    new = _convert_common(key)
    if new is None:
        new = layout_only(key)
    if new is None:
        raise KeyError(f'unknown key of the official {layout} layout: {key}')
    return new


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


def convert_vit_key(key: str) -> str:
    """One official ViT key (``blocks.i.*``, ``patch_embed.proj.*``, no
    model prefix) -> its ``BEiTv2ViT`` key; other keys unchanged.

    Example: ``blocks.3.mlp.fc2.weight`` -> ``layers.3.ffn.layers.1.weight``.
    """
    if key.startswith('patch_embed.proj.'):
        return 'patch_embed.projection.' + key[len('patch_embed.proj.'):]
    m = re.match(r'blocks\.(\d+)\.(.*)', key)
    if m:
        return f'layers.{m.group(1)}.' + convert_block_key(m.group(2))
    return key


def convert_vqkd_key(key: str) -> str:
    """One official tokenizer key -> its ``VQKDTokenizer`` key."""
    for part in ('encoder', 'decoder'):
        if key.startswith(part + '.fc_norm.'):
            # The official fc_norm on patch tokens (docs/official.md §1.1).
            return key.replace(part + '.fc_norm.', part + '_norm.', 1)
        if key.startswith(part + '.'):
            return part + '.' + convert_vit_key(key[len(part) + 1:])
    # quantize.*, encode_task_layer.*, decode_task_layer.* keep their names.
    return key


def convert_vqkd(
        state_dict: Dict[str, torch.Tensor]) -> Tuple[OrderedDict, List[str]]:
    """Convert an official tokenizer state dict.

    Args:
        state_dict (dict): The official ``model`` dict.

    Returns:
        tuple: the converted ``OrderedDict`` and the dropped keys
        (teacher, scaling layer, loss, relative-position index buffers).
    """
    out, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith(DROPPED_PREFIXES) or \
                key.endswith('relative_position_index'):
            dropped.append(key)
            continue
        out[convert_vqkd_key(key)] = value
    return out, dropped
