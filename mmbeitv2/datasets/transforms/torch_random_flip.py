# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmbeitv2.registry import TRANSFORMS


@TRANSFORMS.register_module()
class TorchRandomFlip(BaseTransform):
    """Horizontal flip drawn with torch's random generator, as torchvision's
    ``RandomHorizontalFlip`` (flip when ``torch.rand(1) < prob``).

    The flip itself is mmcv's ``RandomFlip`` (a mirrored view of the
    array); only the draw differs: mmcv draws with numpy. With it, a
    pipeline ``PILColorJitter`` -> ``TorchRandomFlip`` ->
    ``PILRandomResizedCropWithTwoPic`` makes the same random calls as the
    official BEiT v2 ``common_transform`` (microsoft/unilm
    ``beit2/datasets.py``: torch for jitter and flip, python ``random`` for
    the crop), so under the same seeds it gives the same views.

    **Required Keys:** ``img``.

    **Modified Keys:** ``img``.

    **Added Keys:** ``flip`` (bool), ``flip_direction`` ('horizontal' or
    None), as mmcv's ``RandomFlip``.

    Args:
        prob (float): Flip probability. Defaults to 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = prob

    def transform(self, results: Dict) -> Dict:
        """Flip ``results['img']`` left-right with probability ``prob``.

        Args:
            results (dict): The pipeline state.

        Returns:
            dict: ``results`` with ``img``, ``flip`` and ``flip_direction``.
        """
        flip = bool(torch.rand(1) < self.prob)
        if flip:  # a mirrored view, as mmcv.imflip (np.flip)
            results['img'] = np.flip(results['img'], axis=1)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
