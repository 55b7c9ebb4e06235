# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Segmentation support, imported by the segmentation configs
(``custom_imports``) before mmseg: installs the ``mmcv.ops`` stand-in when
the compiled ops are missing (stack_notes #1) and lets mmseg configs name
``type='mmbeitv2.X'``. Importing ``mmbeitv2`` alone never imports this
package."""
from .mmcv_ops_shim import install_mmcv_ops_shim, point_sample
from .scope_link import link_scope_to_root

install_mmcv_ops_shim()
link_scope_to_root()

__all__ = ['install_mmcv_ops_shim', 'point_sample', 'link_scope_to_root']
