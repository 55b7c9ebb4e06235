# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Strict loading of a tokenizer checkpoint (spec §1.7, contracts.md)."""
import pickle
from typing import Dict, List, Tuple

import torch
from mmengine.logging import print_log

# The official loader deletes these before its strict load (spec §1.7).
DROP_PREFIXES = ('loss', 'teacher', 'scaling')


def read_checkpoint(path: str,
                    trusted: bool = False) -> Dict[str, torch.Tensor]:
    """Read a tokenizer state dict from ``path``.

    Everything loads with ``weights_only=True``: plain state dicts,
    official files (tensors under ``model``), exported files
    (``state_dict``) and full mmengine training checkpoints, whose extra
    objects (message hub, numpy scalars) are on the allow-list of
    :mod:`mmbeitv2.engine.checkpoint_safety`. A file holding anything else
    is refused; pass ``trusted=True`` (full unpickling, which can run code
    stored in the file: only for files you made) or export the weights
    first with ``tools/model_converters/vqkd_unilm_to_mmbeitv2.py
    --trusted``.
    """
    from mmbeitv2.engine.checkpoint_safety import mmengine_safe_globals
    torch.serialization.add_safe_globals(mmengine_safe_globals())
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=not trusted)
    except pickle.UnpicklingError as e:
        raise RuntimeError(
            f'{path} holds objects outside the checkpoint allow-list. '
            'Export its weights with tools/model_converters/'
            'vqkd_unilm_to_mmbeitv2.py SRC DST --trusted, or load it with '
            'trusted=True if you made it yourself.') from e
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
                              prefix: str = '',
                              trusted: bool = False) -> List[str]:
    """Strictly load a tokenizer checkpoint into ``model``.

    Every key of the model must be present and no unknown key may remain
    after dropping teacher/scaling/loss keys (which are reported). The
    loaded ``quantize.embedding.initted`` must be 1, so k-means never
    re-runs.

    Returns:
        list[str]: The ignored keys.
    """
    state, ignored = filter_tokenizer_state(
        read_checkpoint(path, trusted), prefix)
    # The running target mean of ``center_target`` only serves the
    # reconstruction loss: a tokens-only model does not need it.
    own = model.state_dict()
    for key in [k for k in state
                if k.startswith('target_mean') and k not in own]:
        ignored.append(key)
        del state[key]
    model.load_state_dict(state, strict=True)
    if not model.quantize.initted:
        raise RuntimeError(f'{path}: quantize.embedding.initted is 0, the '
                           'codebook was never trained')
    more = '...' if len(ignored) > 5 else ''
    print_log(
        f'VQKDTokenizer: loaded {len(state)} tensors from {path}; ignored '
        f'{len(ignored)} keys {ignored[:5]}{more}',
        logger='current')
    return ignored
