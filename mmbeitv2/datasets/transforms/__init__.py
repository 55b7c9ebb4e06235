# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .blockwise_mask_generator import BlockwiseMaskGenerator
from .checked_loading import CheckedLoadImageFromFile, CorruptImageError
from .fixed_views import FixedViews
from .pil_color_jitter import PILColorJitter
from .pil_random_resized_crop_with_two_pic import \
    PILRandomResizedCropWithTwoPic
from .torch_random_flip import TorchRandomFlip

__all__ = [
    'BlockwiseMaskGenerator', 'CheckedLoadImageFromFile', 'CorruptImageError',
    'FixedViews',
    'PILColorJitter', 'PILRandomResizedCropWithTwoPic', 'TorchRandomFlip'
]
