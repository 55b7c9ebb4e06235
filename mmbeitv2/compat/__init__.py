# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every patch of upstream behaviour, in one place.

Each module says which upstream version it works around, the upstream
issue, and when it can go; ``tests/test_compat/`` has one test per patch
that checks the pinned upstream still needs it (it fails once upstream is
fixed, so the patch can be removed). Installed from here only:
:func:`install_runtime_patches` by the tools and the runner,
:func:`install_segmentation_patches` by ``mmbeitv2.seg``.

- ``checkpoint_loader``: mmengine 0.10.7 + torch >= 2.6 (mmengine#1655):
  mmengine cannot load its own checkpoints under ``weights_only=True``.
- ``mmcv_ops_stub``: mmcv-lite 2.1.0 + mmseg 1.2.2 (mmcv#3341): mmseg
  imports the compiled ``mmcv.ops`` that mmcv-lite lacks.
- ``registry_root_link``: mmengine 0.10.7 ``Registry.get``: scoped types
  resolve only among the root registry's direct children.
- ``cpu_distributed``: mmengine 0.10.7 launcher and ``wrap_model``:
  ``torchrun`` on CPU (gloo) needs no ``cuda.set_device``, no
  ``device_ids``.
- ``upstream_messages``: mmpretrain 1.2.0, mmcv 2.1.0, mmengine 0.10.7:
  user errors arrive as untyped messages.
- ``known_warnings``: mmcv-lite 2.1.0: a warning about an op nobody here
  uses.

Two private mmengine attributes are read (not patched), each checked by a
test: ``Runner._has_loaded`` / ``_resume`` / ``_load_from`` in
``SafeCheckpointRunner.load_or_resume`` (to resume from the newest
complete checkpoint when ``last_checkpoint`` is damaged), and
``Registry._search_child`` in the unknown-type error message.
"""
from .checkpoint_loader import (install_checkpoint_safety,
                                uninstall_checkpoint_safety)
from .known_warnings import silence_known_warnings

__all__ = [
    'install_runtime_patches', 'install_segmentation_patches',
    'install_checkpoint_safety', 'uninstall_checkpoint_safety',
    'silence_known_warnings'
]


def install_runtime_patches() -> None:
    """The patches every run needs: safe local checkpoint loading and the
    known-warning filter. Idempotent."""
    silence_known_warnings()
    install_checkpoint_safety()


def install_segmentation_patches() -> None:
    """Before mmseg is imported: the ``mmcv.ops`` stand-in (only when the
    compiled ops are missing) and the registry root link. Idempotent."""
    from .mmcv_ops_stub import install_mmcv_ops_shim
    from .registry_root_link import link_scope_to_root
    install_mmcv_ops_shim()
    link_scope_to_root()
