# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image
from torchvision import transforms

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import TRANSFORMS

_Range = Union[float, Sequence[float]]


@TRANSFORMS.register_module()
class PILColorJitter(BaseTransform):
    """torchvision's ``ColorJitter`` run on a PIL image, as the official
    BEiT v2 pretraining (microsoft/unilm ``beit2/datasets.py``,
    ``DataAugmentationForBEiT``: ``transforms.ColorJitter(0.4, 0.4, 0.4)``).

    The image goes to PIL once, ``torchvision.transforms.ColorJitter`` jitters
    it (``torch.randperm(4)`` order, factors ``U(max(0, 1 - x), 1 + x)``
    drawn with torch's random generator, PIL ``ImageEnhance`` arithmetic),
    and it comes back as a uint8 array in its channel order. Under the same
    torch random state it gives the official result.

    mmpretrain's ``ColorJitter`` (its default ``backend='pillow'``) has the
    same arithmetic and ranges (equal outputs for equal factors and order,
    docs/data_pipelines.md) but draws with numpy and converts to PIL and
    back around each of the three operations (about 2x slower).

    **Required Keys:** ``img`` (uint8, (H, W, 3) or (H, W)).

    **Modified Keys:** ``img``.

    Args:
        brightness (float | Sequence[float]): Brightness jitter, as
            torchvision. Defaults to 0.
        contrast (float | Sequence[float]): Contrast jitter. Defaults to 0.
        saturation (float | Sequence[float]): Saturation jitter.
            Defaults to 0.
        hue (float | Sequence[float]): Hue jitter (0 or in [0, 0.5]).
            Defaults to 0.
        channel_order (str): 'bgr' (mmcv's loaders) or 'rgb'.
            Defaults to 'bgr'.
    """

    def __init__(self,
                 brightness: _Range = 0.,
                 contrast: _Range = 0.,
                 saturation: _Range = 0.,
                 hue: _Range = 0.,
                 channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise UserInputError(
                f"PILColorJitter: channel_order={channel_order!r}; use 'bgr' "
                "(mmcv's LoadImageFromFile) or 'rgb'")
        self.jitter = transforms.ColorJitter(brightness, contrast, saturation,
                                             hue)
        self.channel_order = channel_order

    def transform(self, results: Dict) -> Dict:
        """Jitter ``results['img']``.

        Args:
            results (dict): The pipeline state, with a uint8 ``img``.

        Returns:
            dict: ``results`` with the jittered ``img``.
        """
        img = results['img']
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
            dtype = getattr(img, 'dtype', type(img).__name__)
            raise UserInputError(
                f'PILColorJitter needs a uint8 image array, got {dtype}; '
                'load images without to_float32=True')
        flip = self.channel_order == 'bgr' and img.ndim == 3
        pil = Image.fromarray(img[..., ::-1] if flip else img)
        out = np.asarray(self.jitter(pil))
        results['img'] = np.ascontiguousarray(out[..., ::-1] if flip else out)
        return results

    def __repr__(self) -> str:
        j = self.jitter
        return (f'{self.__class__.__name__}(brightness={j.brightness}, '
                f'contrast={j.contrast}, saturation={j.saturation}, '
                f'hue={j.hue}, channel_order={self.channel_order})')
