# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2: BEiT v2 (VQ-KD tokenizer, MIM pretraining, downstream) for
OpenMMLab.

Importing this package is cheap on purpose: it pulls in no model code and no
mmseg. Modules register themselves when ``mmbeitv2.models`` (and friends) are
imported, which the registry does lazily through its ``locations``.
"""
from .version import __version__

__all__ = ['__version__']
