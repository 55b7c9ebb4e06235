# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Load mmengine checkpoints on torch >= 2.6 without running code from them.

torch >= 2.6 loads with ``weights_only=True``: only tensors, containers and
allow-listed globals are unpickled. Every checkpoint mmengine saves also holds
a few objects outside torch's default list (docs/stack_notes.md #2,
mmengine#1655), so resume, ``load_from`` and ``tools/test.py`` fail. The list
below was found by saving real mmengine 0.10.7 checkpoints and running
``torch.serialization.get_unsafe_globals_in_checkpoint`` on them:

- ``mmengine.logging.HistoryBuffer`` (the message hub's scalars);
- numpy arrays, dtypes and scalars (``_reconstruct``, ``ndarray``, ``dtype``,
  ``scalar`` and the ``numpy.dtypes.*DType`` classes), under their numpy 1
  (``numpy.core``) and numpy 2 (``numpy._core``) module names;
- ``builtins.getattr``, which pickle protocol 2 uses for the
  ``HistoryBuffer.min/max/mean/current`` methods a buffer keeps in its state.
  The real ``getattr`` is never allowed (it would reach any attribute, e.g.
  ``ndarray.tofile``): the name maps to :func:`_history_buffer_getattr`,
  which only returns ``HistoryBuffer`` statistics methods.

None of these runs code chosen by the file. A file that still fails raises a
one-line :class:`CheckpointLoadError` naming the refused globals; a user who
trusts the file can opt in for that file only (``--trust-checkpoint PATH`` or
``MMBEITV2_TRUST_CHECKPOINTS``). There is no global switch.
"""
import os
import os.path as osp
import pickle
from typing import Callable, List, Set, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log


TRUST_ENV = 'MMBEITV2_TRUST_CHECKPOINTS'
SafeGlobal = Union[Callable, Tuple[Callable, str]]

_trusted: Set[str] = set()


def _history_buffer_getattr(obj: object, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` while unpickling a checkpoint.

    Only ``HistoryBuffer.<statistics method>`` can be looked up, which is all
    mmengine's pickles need.
    """
    allowed = set(HistoryBuffer._statistics_methods) | {
        'min', 'max', 'mean', 'current'
    }
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


def mmengine_safe_globals() -> List[SafeGlobal]:
    """The globals mmengine checkpoints need, for ``add_safe_globals``.

    Returns:
        list: Classes/functions, or ``(object, 'module.name')`` pairs where a
        numpy version pickles the object under another name.
    """
    multiarray = np._core.multiarray if hasattr(np, '_core') \
        else np.core.multiarray
    safe: List[SafeGlobal] = [HistoryBuffer, np.ndarray, np.dtype]
    for mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        safe.append((multiarray._reconstruct, f'{mod}._reconstruct'))
        safe.append((multiarray.scalar, f'{mod}.scalar'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes is not None:
        safe += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    safe.append((_history_buffer_getattr, 'builtins.getattr'))
    return safe


def trust_checkpoint(path: str) -> None:
    """Allow full unpickling (``weights_only=False``) of one file.

    Unpickling can run any code stored in the file: call this only for
    checkpoints you made or fully trust.

    Args:
        path (str): The checkpoint file.
    """
    _trusted.add(osp.realpath(osp.expanduser(path)))
    print_log(
        f'Checkpoint {path} is trusted: it will be fully unpickled.',
        logger='current')


def is_trusted(path: str) -> bool:
    """Whether ``path`` was trusted by :func:`trust_checkpoint` or listed in
    the ``MMBEITV2_TRUST_CHECKPOINTS`` environment variable (paths separated
    by ``os.pathsep``)."""
    real = osp.realpath(osp.expanduser(path))
    from_env = {
        osp.realpath(osp.expanduser(p))
        for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p
    }
    return real in _trusted or real in from_env


def _refused_globals(filename: str) -> List[str]:
    """The globals of ``filename`` that safe loading refuses (empty when
    the file is not a readable checkpoint or holds none)."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(
            filename)
    except Exception:  # noqa: BLE001 - not a zip checkpoint: none to name
        return []
    allowed = {
        f'{obj.__module__}.{obj.__qualname__}' if callable(obj) else ''
        for obj in torch.serialization.get_safe_globals()
    } | {obj[1]
         for obj in torch.serialization.get_safe_globals()
         if isinstance(obj, tuple)}
    return [name for name in names if name not in allowed]


def describe_load_failure(filename: str, exc: Exception) -> str:
    """One line saying why ``filename`` did not load and what to do.

    A readable checkpoint refused by safe loading is told apart from a
    broken file by listing its refused globals
    (``torch.serialization.get_unsafe_globals_in_checkpoint``), whatever
    wording torch used for the refusal.
    """
    refused = _refused_globals(filename) if isinstance(
        exc, pickle.UnpicklingError) else []
    if refused:
        return (f'checkpoint {filename} holds objects that safe loading '
                f'refuses to unpickle ({", ".join(refused)}); if you made '
                'it or fully trust it, opt in for this file: '
                f'--trust-checkpoint {filename} (tools/train.py; '
                'tools/test.py: --trust-checkpoint) or '
                f'{TRUST_ENV}={filename}, see docs/usage.md "Checkpoint '
                'trust"')
    text = str(exc)
    first = next((ln for ln in text.splitlines() if ln.strip()), '')
    return (f'{filename} is not a readable PyTorch checkpoint (truncated, '
            f'corrupt or another format: {type(exc).__name__}: '
            f'{first[:160]}); pass a .pth file written by torch.save / '
            'mmengine, or re-download it')
