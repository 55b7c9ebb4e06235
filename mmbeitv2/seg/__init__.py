# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Segmentation support, imported by the segmentation configs
(``custom_imports``) before mmseg: installs the segmentation patches of
:mod:`mmbeitv2.compat` (the ``mmcv.ops`` stand-in when the compiled ops are
missing, docs/stack_notes.md #1, and the registry link that lets mmseg
configs name ``type='mmbeitv2.X'``). Importing ``mmbeitv2`` alone never
imports this package."""
from mmbeitv2.compat import install_segmentation_patches
from mmbeitv2.compat.mmcv_ops_stub import point_sample

install_segmentation_patches()

__all__ = ['point_sample']
