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
:func:`mmbeitv2.engine.checkpoint_safety.load_from_local_safe`
(``weights_only=True`` + the allow-list, one-line errors, official files
converted in memory). mmengine has no API to replace a scheme except
``register_scheme(..., force=True)``.

Remove when: a released mmengine loads its own checkpoints under
torch's ``weights_only=True`` (``tests/test_compat`` then fails).
"""
from typing import Callable, Optional

from mmengine.runner.checkpoint import CheckpointLoader

_original_local_loader: Optional[Callable] = None


def install_checkpoint_safety() -> None:
    """Route local checkpoint loading through ``load_from_local_safe``.
    Idempotent.

    Only mmengine's local-path scheme is replaced. Nothing is added to
    torch's global allow-list: our loaders pass it as a context
    (``torch.serialization.safe_globals``), so no load depends on what ran
    before it.
    """
    from mmbeitv2.engine.checkpoint_safety import load_from_local_safe
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
