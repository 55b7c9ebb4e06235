# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Strict loading of a tokenizer checkpoint (docs/official.md §1.7).

A tokenizer file holds the encoder, the quantizer (``initted`` = 1) and the
decoder, never the teacher. Official unilm files (``model`` key, official
names, teacher/scaling/loss keys) load as downloaded: the layout is
detected and converted in memory (:mod:`mmbeitv2.checkpoint.layouts`).
"""
from typing import Dict, List, Tuple

import torch
from mmengine.logging import print_log

from mmbeitv2.errors import CheckpointLoadError
from .io import read_state_dict
from .layouts import to_mmbeitv2
from .official_keys import DROPPED_PREFIXES


def read_checkpoint(path: str,
                    trusted: bool = False) -> Dict[str, torch.Tensor]:
    """Read a tokenizer state dict from ``path``, in mmbeitv2 keys.

    Everything loads with ``weights_only=True``: plain state dicts,
    official files (tensors under ``model``, converted in memory), exported
    files (``state_dict``) and full mmengine training checkpoints, whose
    extra objects (message hub, numpy scalars) are on the allow-list of
    :mod:`mmbeitv2.checkpoint.trust`. A file holding anything else
    is refused with one line naming the objects; pass ``trusted=True``
    (full unpickling, which can run code stored in the file: only for files
    you made).
    """
    state = read_state_dict(
        path, trusted, role='tokenizer',
        where="the tokenizer's init_cfg.checkpoint; "
        'model.target_generator.init_cfg.checkpoint in pretraining configs, '
        'a converted or official VQ-KD file')
    return to_mmbeitv2(state, path)


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
        if key.startswith(DROPPED_PREFIXES):
            ignored.append(key)
            continue
        out[key] = value
    return out, ignored


def _check_shapes(state: dict, own: dict, path: str) -> None:
    """Raise a one-line :class:`CheckpointMismatchError` when a tensor of
    ``state`` has another shape than the model's (e.g. a codebook of
    another size)."""
    from mmbeitv2.errors import CheckpointMismatchError
    bad = [(k, tuple(v.shape), tuple(own[k].shape))
           for k, v in state.items()
           if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if not bad:
        return
    key, got, want = bad[0]
    codebook = state.get('quantize.embedding.weight')
    hint = ''
    if codebook is not None and tuple(codebook.shape) != tuple(
            own['quantize.embedding.weight'].shape):
        hint = (f'its codebook is {codebook.shape[0]} x {codebook.shape[1]}'
                ', so set the tokenizer\'s quantizer.num_embed / embed_dims '
                '(and the MIM head\'s num_embed) to match, or ')
    raise CheckpointMismatchError(
        f'tokenizer checkpoint {path} does not fit the configured tokenizer:'
        f' {key} is {got} in the file but {want} in the model'
        f'{f" ({len(bad)} tensors differ)" if len(bad) > 1 else ""}; '
        f'{hint}use the checkpoint made for this config')


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
    # The running target mean of ``CenteredTeacher`` only serves the
    # reconstruction loss: a tokens-only model does not need it.
    own = model.state_dict()
    for key in [k for k in state
                if k.startswith('target_mean') and k not in own]:
        ignored.append(key)
        del state[key]
    _check_shapes(state, own, path)
    model.load_state_dict(state, strict=True)
    if not model.quantize.initted:
        raise CheckpointLoadError(
            f'{path}: quantize.embedding.initted is 0, the codebook was '
            'never trained; give a trained tokenizer checkpoint')
    more = '...' if len(ignored) > 5 else ''
    print_log(
        f'VQKDTokenizer: loaded {len(state)} tensors from {path}; ignored '
        f'{len(ignored)} keys {ignored[:5]}{more}',
        logger='current')
    return ignored
