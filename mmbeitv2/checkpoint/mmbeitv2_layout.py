# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""What an mmbeitv2 checkpoint holds: its kind (``BEiTv2`` pretraining,
``ImageClassifier`` fine-tune/probe, or a bare backbone), the backbone
tensors, the linear head, and the ``BEiTv2ViT`` settings read off the
tensor shapes. Shared by the exporters to timm, Hugging Face and
mmpretrain (``tools/model_converters/mmbeitv2_to_*.py``)."""
import re
from collections import OrderedDict
from typing import Dict, Optional

import torch

from mmbeitv2.errors import UserInputError

Tensors = Dict[str, torch.Tensor]
SHARED_TABLE = 'rel_pos_bias.relative_position_bias_table'


def split_checkpoint(state_dict: Tensors, name: str = 'checkpoint') -> dict:
    """Split an mmbeitv2 model state dict into backbone and head.

    Args:
        state_dict (dict): A ``BEiTv2`` state dict (``backbone.``,
            ``neck.``, ``head.``, ``target_generator.``), an
            ``ImageClassifier`` one (``backbone.``, ``head.fc.``, maybe a
            ``neck.``) or bare ``BEiTv2ViT`` keys.
        name (str): The file, for error messages.

    Returns:
        dict: ``kind`` (``'pretrain'``, ``'classifier'`` or
        ``'backbone'``), ``backbone`` (bare ``BEiTv2ViT`` keys), ``head``
        (``{'weight', 'bias'}`` of a linear classifier on the pooled
        feature, or None) and ``dropped`` (names of what has no place
        outside mmbeitv2, e.g. the MIM neck/head or a probe's BN neck).
    """
    keys = set(state_dict)
    if any(k.startswith('backbone.') for k in keys):
        backbone = OrderedDict((k[len('backbone.'):], v)
                               for k, v in state_dict.items()
                               if k.startswith('backbone.'))
        pretrain = any(k.startswith(('target_generator.', 'head.cls_head.'))
                       for k in keys) or 'mask_token' in backbone
        kind = 'pretrain' if pretrain else 'classifier'
    elif 'patch_embed.projection.weight' in keys:
        backbone, kind = OrderedDict(state_dict), 'backbone'
    else:
        raise UserInputError(
            f'{name} is not an mmbeitv2 checkpoint (no backbone.* or '
            'patch_embed.projection.weight keys); convert official files '
            'with tools/model_converters/beitv2_unilm_to_mmbeitv2.py first')
    head, dropped = None, []
    if kind == 'classifier' and 'head.fc.weight' in keys:
        if any(k.startswith('neck.') for k in keys):
            dropped.append('neck.* + head.fc.* (a linear probe on its own '
                           'neck: only the backbone is exported)')
        else:
            head = dict(weight=state_dict['head.fc.weight'],
                        bias=state_dict.get('head.fc.bias'))
    elif kind == 'pretrain':
        dropped.append('neck.*, head.*, target_generator.* (pretraining '
                       'only)')
    if 'mask_token' in backbone:
        backbone.pop('mask_token')
        dropped.append('backbone.mask_token (pretraining only)')
    return dict(kind=kind, backbone=backbone, head=head, dropped=dropped)


def _table_window(table: torch.Tensor) -> int:
    """Patch grid side of a (2W-1)^2 + 3 relative position table."""
    return (int(round((table.shape[0] - 3)**0.5)) + 1) // 2


def infer_settings(backbone: Tensors,
                   num_heads: Optional[int] = None) -> dict:
    """``BEiTv2ViT`` arguments read off the backbone tensor shapes.

    Args:
        backbone (dict): Bare ``BEiTv2ViT`` keys.
        num_heads (int, optional): Needed only without any relative
            position table (the head count is the table's width).
            Defaults to None.

    Returns:
        dict: ``arch`` (embed_dims, num_layers, num_heads,
        feedforward_channels), ``img_size``, ``patch_size``,
        ``in_channels``, ``use_abs_pos_emb``, ``use_rel_pos_bias``,
        ``use_shared_rel_pos_bias``, ``layer_scale_init_value`` (0.1 when
        the checkpoint has layer scale, else 0), ``final_norm`` and
        ``out_type`` (``'avg_featmap'`` with a pooled norm ``ln2``, else
        ``'raw'``).
    """
    proj = backbone['patch_embed.projection.weight']  # (C, 3, p, p)
    embed_dims, in_channels, patch_size = proj.shape[0], proj.shape[1], \
        proj.shape[-1]
    num_layers = 1 + max(
        int(m.group(1)) for m in map(re.compile(r'layers\.(\d+)\.').match,
                                     backbone) if m)
    shared = SHARED_TABLE in backbone
    per_block = 'layers.0.attn.relative_position_bias_table' in backbone
    table = backbone.get(SHARED_TABLE, backbone.get(
        'layers.0.attn.relative_position_bias_table'))
    if table is not None:
        num_heads = table.shape[1]
        grid = _table_window(table)
    elif 'pos_embed' in backbone:
        grid = int(round((backbone['pos_embed'].shape[1] - 1)**0.5))
    else:
        raise UserInputError('the backbone has neither relative position '
                             'tables nor pos_embed; its image size is '
                             'unknown')
    if num_heads is None:
        raise UserInputError('the backbone has no relative position table; '
                             'give the number of heads with --num-heads')
    return dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=num_layers,
            num_heads=num_heads,
            feedforward_channels=backbone[
                'layers.0.ffn.layers.0.0.weight'].shape[0]),
        img_size=grid * patch_size,
        patch_size=patch_size,
        in_channels=in_channels,
        use_abs_pos_emb='pos_embed' in backbone,
        use_rel_pos_bias=per_block,
        use_shared_rel_pos_bias=shared,
        layer_scale_init_value=0.1 if 'layers.0.gamma_1' in backbone else 0.,
        final_norm='ln1.weight' in backbone,
        out_type='avg_featmap' if 'ln2.weight' in backbone else 'raw')


def expand_shared_table(backbone: Tensors, num_layers: int) -> Tensors:
    """Shared -> per-block relative position tables (what the official
    fine-tuning does on load, ``run_class_finetuning.py``): same outputs
    for every block."""
    out = OrderedDict(backbone)
    if SHARED_TABLE in out:
        table = out.pop(SHARED_TABLE)
        out.pop('rel_pos_bias.relative_position_index', None)
        for i in range(num_layers):
            out[f'layers.{i}.attn.relative_position_bias_table'] = \
                table.clone()
    return out


def read_checkpoint(path: str) -> Tensors:
    """The model state dict of a checkpoint file in mmbeitv2 keys, loaded
    with ``weights_only=True`` (:func:`mmbeitv2.checkpoint.io.
    read_state_dict`; an official unilm file is converted in memory);
    errors are one line."""
    from .io import read_state_dict
    from .layouts import to_mmbeitv2
    return to_mmbeitv2(read_state_dict(path), path)


def fill_fresh(state_dict: Tensors, expected: Tensors) -> list:
    """Add what ``expected`` (a freshly built target model's state dict)
    has and ``state_dict`` lacks, when it is the identity: a fresh pooled
    norm (ones/zeros, as the official fine-tuning starts it) or layer scale
    ones (no layer scale). In place.

    Returns:
        list[str]: The keys added.

    Raises:
        KeyError: If anything else is missing.
    """
    added = []
    for key, ref in expected.items():
        if key in state_dict:
            continue
        if re.search(r'(^|\.)(fc_norm|pooler\.layernorm)\.(weight|bias)$',
                     key) or re.search(r'(gamma|lambda)_[12]$', key):
            ones = key.endswith('weight') or re.search(r'_[12]$', key)
            state_dict[key] = torch.ones_like(ref) if ones else \
                torch.zeros_like(ref)
            added.append(key)
    return added
