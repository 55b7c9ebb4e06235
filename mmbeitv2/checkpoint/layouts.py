# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Which layout a state dict is in, and the official ones converted in
memory, so that ``init_cfg=dict(type='Pretrained', checkpoint=FILE)`` takes
an official unilm file as downloaded (docs/official.md, Appendix A).

Layouts, told apart by keys only an official file has:

- ``'official_vqkd'``: ``encoder.blocks.*`` + ``quantize.embedding.weight``
  (``modeling_vqkd.VQKD``);
- ``'official_pretrain'``: ``blocks.*`` with ``lm_head``, ``mask_token`` or
  a shared ``rel_pos_bias`` table
  (``modeling_pretrain.VisionTransformerForMaskedImageModelingCLS``);
- ``'official_finetune'``: ``blocks.*`` with per-block tables, ``fc_norm``
  or ``head`` (``modeling_finetune.VisionTransformer``; timm's
  ``beitv2_*`` state dicts have the same names);
- ``'mmbeitv2'``: anything else (our own and mmengine files).
"""
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
from mmengine.logging import print_log

from .official_keys import (convert_beitv2_finetune, convert_beitv2_pretrain,
                            convert_vqkd, is_finetune_layout)

OFFICIAL_LAYOUTS = ('official_vqkd', 'official_pretrain', 'official_finetune')


def detect_layout(state_dict: Dict[str, torch.Tensor]) -> str:
    """Name the layout of ``state_dict`` (see the module docstring).

    Args:
        state_dict (dict): An unwrapped state dict.

    Returns:
        str: ``'official_vqkd'``, ``'official_pretrain'``,
        ``'official_finetune'`` or ``'mmbeitv2'``.
    """
    keys = list(state_dict)
    if any(k.startswith('encoder.blocks.') for k in keys) and \
            'quantize.embedding.weight' in state_dict:
        return 'official_vqkd'
    if not any(k.startswith('blocks.') for k in keys):
        return 'mmbeitv2'
    return 'official_finetune' if is_finetune_layout(state_dict) \
        else 'official_pretrain'


def convert_official(state_dict: Dict[str, torch.Tensor],
                     layout: str) -> Tuple[OrderedDict, List[str]]:
    """An official state dict in mmbeitv2 keys.

    Args:
        state_dict (dict): In ``layout``.
        layout (str): One of :data:`OFFICIAL_LAYOUTS`.

    Returns:
        tuple: The converted state dict and the dropped keys.
    """
    if layout == 'official_vqkd':
        return convert_vqkd(state_dict)
    convert = convert_beitv2_pretrain if layout == 'official_pretrain' \
        else convert_beitv2_finetune
    out = convert(state_dict)
    # Only ``relative_position_index`` buffers are dropped (recomputed).
    dropped = [k for k in state_dict if k.endswith('relative_position_index')]
    return out, dropped


def to_mmbeitv2(state_dict: Dict[str, torch.Tensor],
                source: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """``state_dict`` in mmbeitv2 keys: official layouts are converted (and
    one log line says so), ours pass unchanged.

    Args:
        state_dict (dict): An unwrapped state dict.
        source (str): The file name, for the log line.

    Returns:
        dict: mmbeitv2 keys.
    """
    layout = detect_layout(state_dict)
    if layout == 'mmbeitv2':
        return state_dict
    out, dropped = convert_official(state_dict, layout)
    print_log(
        f'{source}: detected the {layout.replace("_", " ")} layout (unilm '
        f'beit2); converted {len(out)} tensors to mmbeitv2 keys in memory, '
        f'dropped {len(dropped)} (teacher, loss, relative_position_index)',
        logger='current')
    return out


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


def convert_official_checkpoint(ckpt: object, source: str) -> object:
    """A loaded file with an official layout -> ``{'state_dict': ...}`` in
    mmbeitv2 keys (one log line); anything else is returned unchanged.

    Called by the safe local loader, so ``init_cfg`` ``Pretrained``,
    ``load_from`` and ``tools/test.py`` accept official files directly.

    Args:
        ckpt (object): What ``torch.load`` returned.
        source (str): The file name, for the log line.

    Returns:
        object: ``ckpt`` or the converted checkpoint.
    """
    from .io import unwrap_state_dict
    if not isinstance(ckpt, dict):
        return ckpt
    state_dict, _ = unwrap_state_dict(ckpt)
    if detect_layout(state_dict) == 'mmbeitv2':
        return ckpt
    return {'state_dict': to_mmbeitv2(state_dict, source)}
