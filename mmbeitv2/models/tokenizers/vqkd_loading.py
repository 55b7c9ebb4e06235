# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Strict loading of a tokenizer checkpoint (spec §1.7, contracts.md)."""
from typing import Dict, List, Tuple

import torch
from mmengine.logging import print_log

# The official loader deletes these before its strict load (spec §1.7).
DROP_PREFIXES = ('loss', 'teacher', 'scaling')


def _mmengine_safe_globals() -> list:
    """Classes an mmengine-saved checkpoint pickles besides tensors, so that
    ``weights_only=True`` (no arbitrary code) still reads it."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    allowed = [HistoryBuffer, np.dtype, np.ndarray]
    core = getattr(np, '_core', None) or np.core
    allowed.append(core.multiarray._reconstruct)
    allowed.append(core.multiarray.scalar)
    allowed += [type(np.dtype(t)) for t in ('float64', 'float32', 'int64')]
    return allowed


def read_checkpoint(path: str) -> Dict[str, torch.Tensor]:
    """Read a state dict from ``path`` with ``weights_only=True``.

    Accepts a plain state dict, an official file (``model``) or an mmengine
    checkpoint (``state_dict``; its message hub is read through an
    allow-list, never with full unpickling).
    """
    with torch.serialization.safe_globals(_mmengine_safe_globals()):
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and key in ckpt and isinstance(
                ckpt[key], dict):
            return ckpt[key]
    return ckpt


def filter_tokenizer_state(state: Dict[str, torch.Tensor],
                           prefix: str = '') -> Tuple[dict, List[str]]:
    """Strip ``prefix`` and drop teacher/scaling/loss keys.

    Returns:
        tuple: the filtered state dict and the ignored keys.
    """
    out, ignored = {}, []
    for key, value in state.items():
        if prefix:
            if not key.startswith(prefix):
                ignored.append(key)
                continue
            key = key[len(prefix):]
        if key.startswith(DROP_PREFIXES) or key.startswith('_teacher'):
            ignored.append(key)
            continue
        out[key] = value
    return out, ignored


def load_tokenizer_checkpoint(model: torch.nn.Module,
                              path: str,
                              prefix: str = '') -> List[str]:
    """Strictly load a tokenizer checkpoint into ``model``.

    Every key of the model must be present and no unknown key may remain
    after dropping teacher/scaling/loss keys (which are reported). The
    loaded ``quantize.embedding.initted`` must be 1, so k-means never
    re-runs.

    Returns:
        list[str]: The ignored keys.
    """
    state, ignored = filter_tokenizer_state(read_checkpoint(path), prefix)
    model.load_state_dict(state, strict=True)
    if not model.quantize.initted:
        raise RuntimeError(f'{path}: quantize.embedding.initted is 0, the '
                           'codebook was never trained')
    print_log(
        f'VQKDTokenizer: loaded {len(state)} tensors from {path}; ignored '
        f'{len(ignored)} keys {ignored[:5]}{"..." if len(ignored) > 5 else ""}',
        logger='current')
    return ignored
