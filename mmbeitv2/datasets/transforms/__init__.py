# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .blockwise_mask_generator import BlockwiseMaskGenerator

__all__ = ['BlockwiseMaskGenerator']
