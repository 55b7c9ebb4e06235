# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Patch: mmengine's loader for local checkpoint paths.

Upstream: mmengine 0.10.7 (the last release) with torch >= 2.6, whose
``torch.load`` defaults to ``weights_only=True``. mmengine pickles its
``HistoryBuffer`` and numpy objects into every checkpoint and its local
loader calls ``torch.load`` without an allow-list, so resume,
``load_from`` and ``tools/test.py`` fail on mmengine's own files
(mmengine#1655, fixed on mmengine's main branch, never released;
docs/stack_notes.md #2).

Fix: route the local-path scheme of ``CheckpointLoader`` through
:func:`load_from_local_safe`
(``weights_only=True`` + the allow-list, one-line errors, official files
converted in memory). mmengine has no API to replace a scheme except
``register_scheme(..., force=True)``.

Remove when: a released mmengine loads its own checkpoints under
torch's ``weights_only=True`` (``tests/test_compat`` then fails).
"""
from typing import Callable, Optional, Union

from mmengine.runner.checkpoint import CheckpointLoader

from mmbeitv2.checkpoint.io import load_checkpoint_file
from mmbeitv2.checkpoint.layouts import convert_official_checkpoint

_original_local_loader: Optional[Callable] = None


def load_from_local_safe(filename: str,
                         map_location: Optional[Union[str, Callable]] = None
                         ) -> dict:
    """Replacement of mmengine's loader for local paths.

    Loads with ``weights_only=True`` (the allow-list of
    :mod:`mmbeitv2.checkpoint.trust`) unless the file is trusted, and turns
    every failure into a one-line :class:`CheckpointLoadError`.

    Args:
        filename (str): Local path of the checkpoint.
        map_location (str | Callable, optional): As :func:`torch.load`.
            Defaults to None.

    Returns:
        dict: The loaded checkpoint.
    """
    ckpt = load_checkpoint_file(
        filename,
        where='--resume / load_from / tools/test.py',
        map_location=map_location)
    # Official unilm files load as downloaded (converted in memory).
    return convert_official_checkpoint(ckpt, filename)


def install_checkpoint_safety() -> None:
    """Route local checkpoint loading through ``load_from_local_safe``.
    Idempotent.

    Only mmengine's local-path scheme is replaced. Nothing is added to
    torch's global allow-list: our loaders pass it as a context
    (``torch.serialization.safe_globals``), so no load depends on what ran
    before it.
    """
    global _original_local_loader
    current = CheckpointLoader._get_checkpoint_loader('/local/path')
    if current is load_from_local_safe:
        return
    _original_local_loader = current
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safe, force=True)


def uninstall_checkpoint_safety() -> None:
    """Give mmengine its own local loader back (for tests)."""
    global _original_local_loader
    if _original_local_loader is not None:
        CheckpointLoader.register_scheme(
            prefixes='', loader=_original_local_loader, force=True)
        _original_local_loader = None
