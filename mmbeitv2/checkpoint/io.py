# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Reading checkpoint files: the one place that calls ``torch.load``.

Every file is read with ``weights_only=True`` and the allow-list of what
mmengine writes (:mod:`mmbeitv2.checkpoint.trust`), as a context
(``torch.serialization.safe_globals``), so nothing is installed globally.
Full unpickling only for a file the user trusts. Every failure is one
:class:`~mmbeitv2.errors.CheckpointLoadError` line.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, Tuple

import torch

from mmbeitv2.errors import CheckpointLoadError
from .trust import describe_load_failure, is_trusted, mmengine_safe_globals

# Where the official loaders and mmengine keep the tensors, in the order the
# official ``run_class_finetuning.py`` looks (``--model_key model|module``),
# then mmengine's ``state_dict`` (docs/official.md §3.2).
STATE_DICT_KEYS = ('model', 'module', 'state_dict')


def load_checkpoint_file(path: str,
                         trusted: bool = False,
                         role: str = '',
                         where: str = '',
                         map_location='cpu') -> dict:
    """Read a checkpoint file on the CPU.

    Args:
        path (str): A local file.
        trusted (bool): Full unpickling (``weights_only=False``), which can
            run code stored in the file: only for files you made. Files
            listed by ``--trust-checkpoint`` / ``MMBEITV2_TRUST_CHECKPOINTS``
            are trusted too. Defaults to False.
        role (str): What the file is for (e.g. ``'tokenizer'``), named first
            in error messages. Defaults to ''.
        where (str): The config field that names the file, for the "not
            found" message. Defaults to ''.
        map_location (str | Callable): As :func:`torch.load`.
            Defaults to ``'cpu'``.

    Returns:
        dict: The loaded object.

    Raises:
        CheckpointLoadError: Missing, truncated or not a checkpoint, or it
            holds objects outside the allow-list (named, with the opt-in).
    """
    path = osp.expanduser(path)
    lead = f'{role} ' if role else ''
    if not osp.isfile(path):
        where = where or 'init_cfg.checkpoint / load_from'
        raise CheckpointLoadError(
            f'{lead}checkpoint not found: {path}; check the path in the '
            f'config ({where}) or on the command line')
    trusted = trusted or is_trusted(path)
    try:
        with torch.serialization.safe_globals(mmengine_safe_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=not trusted)
    except Exception as exc:  # noqa: BLE001 - torch raises many types here
        raise CheckpointLoadError(
            lead + describe_load_failure(path, exc)) from exc


def unwrap_state_dict(ckpt: dict) -> Tuple[Dict[str, torch.Tensor], str]:
    """The state dict inside a checkpoint, as the official loaders find it.

    Looks under ``model``, ``module`` then ``state_dict``, else takes the
    dict itself; strips a DDP ``module.`` prefix.

    Args:
        ckpt (dict): A loaded checkpoint.

    Returns:
        tuple: The state dict and the key it came from (``''`` if bare).
    """
    source = ''
    for key in STATE_DICT_KEYS:
        if isinstance(ckpt.get(key), dict):
            ckpt, source = ckpt[key], key
            break
    state_dict = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in ckpt.items())
    return state_dict, source


def read_state_dict(path: str,
                    trusted: bool = False,
                    role: str = '',
                    where: str = '') -> Dict[str, torch.Tensor]:
    """The unwrapped state dict of a checkpoint file, in whatever layout
    the file has (see :func:`load_checkpoint_file` for the arguments;
    :func:`mmbeitv2.checkpoint.layouts.to_mmbeitv2` converts official
    layouts).

    Raises:
        CheckpointLoadError: As :func:`load_checkpoint_file`, and for a
            file that holds no dict.
    """
    ckpt = load_checkpoint_file(path, trusted, role, where)
    if not isinstance(ckpt, dict):
        raise CheckpointLoadError(
            f'{path} holds a {type(ckpt).__name__}, not a state dict; pass '
            'a file written with torch.save(model.state_dict()) or by '
            'mmengine')
    return unwrap_state_dict(ckpt)[0]
