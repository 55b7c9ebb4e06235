# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Official (microsoft/unilm beit2) VQ-KD key names -> mmbeitv2 names.

Pure functions, no I/O: used by
``tools/model_converters/vqkd_unilm_to_mmbeitv2.py`` and its tests.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

# Keys the official loader deletes before its strict load (spec §1.7).
DROPPED_PREFIXES = ('teacher', 'scaling', 'loss')

_VIT_RULES = [
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'^blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'^blocks\.(\d+)\.', r'layers.\1.'),
]


def map_vit_key(name: str) -> str:
    """Official ViT key (without the ``encoder.`` prefix) -> ``BEiTv2ViT``.

    Example: ``blocks.3.mlp.fc2.weight`` -> ``layers.3.ffn.layers.1.weight``.
    """
    for pattern, repl in _VIT_RULES:
        new, n = re.subn(pattern, repl, name)
        if n:
            return new
    return name


def map_vqkd_key(key: str) -> str:
    """One official tokenizer key -> its ``VQKDTokenizer`` key."""
    for part in ('encoder', 'decoder'):
        if key.startswith(part + '.fc_norm.'):
            # The official fc_norm on patch tokens (spec §1.1).
            return key.replace(part + '.fc_norm.', part + '_norm.', 1)
        if key.startswith(part + '.'):
            return part + '.' + map_vit_key(key[len(part) + 1:])
    # quantize.*, encode_task_layer.*, decode_task_layer.* keep their names.
    return key


def convert_vqkd_state_dict(
        state: Dict[str, 'object']) -> Tuple[OrderedDict, List[str]]:
    """Convert an official tokenizer state dict.

    Args:
        state (dict): The official ``model`` dict.

    Returns:
        tuple: the converted ``OrderedDict`` and the dropped keys
        (teacher, scaling layer, loss, relative-position index buffers).
    """
    out, dropped = OrderedDict(), []
    for key, value in state.items():
        if key.startswith(DROPPED_PREFIXES) or \
                key.endswith('relative_position_index'):
            dropped.append(key)
            continue
        out[map_vqkd_key(key)] = value
    return out, dropped
