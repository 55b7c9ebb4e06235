# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Patch: warnings of the pinned stack that say nothing to our users.

Upstream: mmcv-lite 2.1.0 warns on every import of ``mmcv.cnn.bricks.
transformer`` that ``MultiScaleDeformableAttention`` (a compiled op) is
missing (mmcv-lite has no compiled ops, docs/stack_notes.md #1); nothing in
mmbeitv2 uses it. Filtered by the tools (not at import of the package).

Remove when: the stack moves to a full mmcv with compiled ops.
"""
import warnings

MMCV_LITE_DEFORMABLE = 'Fail to import ``MultiScaleDeformableAttention``'


def silence_known_warnings() -> None:
    """Filter the warnings above (idempotent)."""
    warnings.filterwarnings('ignore', message=MMCV_LITE_DEFORMABLE)
