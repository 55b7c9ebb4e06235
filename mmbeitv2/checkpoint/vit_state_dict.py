# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""State-dict preparation of ``BEiTv2ViT``: what the official
``run_class_finetuning.py`` does to a pretraining checkpoint (docs/official.md
§3.2)."""
import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from .rel_pos_resize import resize_rel_pos_bias_table

SHARED_TABLE = 'rel_pos_bias.relative_position_bias_table'


def _expand_shared_table(module, state_dict: dict, prefix: str) -> None:
    """Shared -> per-block tables (docs/official.md §3.2.3): copy the one
    pretraining table into every block that has its own, then drop the shared
    key."""
    key = prefix + SHARED_TABLE
    per_layer = module.layers[0].attn.relative_position_bias_table
    if key not in state_dict or per_layer is None:
        return
    table = state_dict.pop(key)
    for i in range(module.num_layers):
        state_dict.setdefault(
            f'{prefix}layers.{i}.attn.relative_position_bias_table',
            table.clone())
    print_log(
        f'BEiTv2ViT: copied the shared relative position table into '
        f'{module.num_layers} per-block tables', logger='current')


def _resize_tables(module, state_dict: dict, prefix: str) -> None:
    """Resize every relative-position table whose size differs from this
    model's (another resolution), keeping the 3 [CLS] entries."""
    own = module.state_dict()
    for name, value in own.items():
        if name.endswith('relative_position_index'):
            # Always recomputed from this model's window (docs/official.md
            # §3.2.4).
            state_dict[prefix + name] = value.clone()
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        if name.endswith('relative_position_index') and name not in own:
            del state_dict[key]
            continue
        if not name.endswith('relative_position_bias_table') or \
                name not in own:
            continue
        src, dst = state_dict[key], own[name]
        if src.shape != dst.shape:
            state_dict[key] = resize_rel_pos_bias_table(
                src, module.patch_resolution)
            print_log(
                f'BEiTv2ViT: resized {name} {tuple(src.shape)} -> '
                f'{tuple(dst.shape)}', logger='current')


def _resize_pos_embed(module, state_dict: dict, prefix: str) -> None:
    """Bicubic resize of the absolute position embedding, [CLS] kept
    (docs/official.md §3.2.5)."""
    key = prefix + 'pos_embed'
    if key not in state_dict or module.pos_embed is None:
        return
    src = state_dict[key]
    if src.shape == module.pos_embed.shape:
        return
    cls, grid = src[:, :1], src[:, 1:]
    old = int(grid.shape[1]**0.5)
    h, w = module.patch_resolution
    # (1, old*old, C) -> (1, C, old, old)
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2).float()
    grid = F.interpolate(
        grid, size=(h, w), mode='bicubic', align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, h * w, -1).to(src.dtype)
    state_dict[key] = torch.cat([cls, grid], dim=1)


def prepare_state_dict(module, state_dict: dict, prefix: str, *args,
                       **kwargs) -> None:
    """``load_state_dict`` pre-hook of ``BEiTv2ViT``."""
    _expand_shared_table(module, state_dict, prefix)
    _resize_tables(module, state_dict, prefix)
    _resize_pos_embed(module, state_dict, prefix)
