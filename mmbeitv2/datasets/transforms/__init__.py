# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .blockwise_mask_generator import BlockwiseMaskGenerator
from .checked_loading import CheckedLoadImageFromFile, CorruptImageError

__all__ = [
    'BlockwiseMaskGenerator', 'CheckedLoadImageFromFile', 'CorruptImageError'
]
