# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/transforms.py  # noqa: E501
import math
import random
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import TRANSFORMS

# The names of the official ``_pil_interp`` (beit2/transforms.py) plus
# nearest and box; the official code maps any other name to bilinear, here
# an unknown name is an error.
PIL_INTERPOLATIONS = {
    'nearest': Image.NEAREST,
    'bilinear': Image.BILINEAR,
    'bicubic': Image.BICUBIC,
    'lanczos': Image.LANCZOS,
    'hamming': Image.HAMMING,
    'box': Image.BOX,
}
# ``interpolation='random'`` (first view only): one of these per image.
_RANDOM_INTERPOLATIONS = ('bilinear', 'bicubic')


def _size_hw(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


def _check_interpolation(name: str, arg: str, allow_random: bool) -> None:
    names = sorted(PIL_INTERPOLATIONS) + (['random'] if allow_random else [])
    if name not in names:
        raise UserInputError(
            f'PILRandomResizedCropWithTwoPic: {arg}={name!r} is not a PIL '
            f'interpolation; use one of {names}')


@TRANSFORMS.register_module()
class PILRandomResizedCropWithTwoPic(BaseTransform):
    """One random crop resized twice with PIL, as the official BEiT v2 views.

    The crop box and both resizes are those of the official
    ``RandomResizedCropAndInterpolationWithTwoPic`` (microsoft/unilm
    ``beit2/transforms.py``, used by ``DataAugmentationForBEiT`` in
    ``beit2/datasets.py``; docs/official.md §2.5):

    - the box: up to 10 draws of ``area * U(scale)`` and a log-uniform
      aspect ratio in ``ratio`` with python ``random``, accepted when
      ``w <= W and h <= H``, corner ``random.randint`` inclusive; else the
      centre crop clamped to ``ratio``. Under the same python ``random``
      state it returns the same box as the official code.
    - each view: the box is cut out, then resized by PIL
      (``Image.crop`` + ``Image.resize``, what torchvision's
      ``resized_crop`` does on PIL images), so downscaling is antialiased.
      When both views have the same size and filter (the official command)
      the resize runs once and the second view is a copy.

    mmpretrain's ``RandomResizedCropAndInterpolationWithTwoPic`` differs: it
    resizes with ``mmcv.imresize`` on the cv2 backend (no antialiasing;
    about 35 dB PSNR (median) against PIL on ImageNet photos, see
    docs/data_pipelines.md), accepts a box only if ``w < W and h < H``, draws
    the corner with an exclusive ``np.random.randint`` and passes ``size``
    to ``imresize`` as (w, h).

    The image may be BGR or RGB (each channel is resized on its own; the
    channel order is kept) or grayscale, and must be uint8 as the official
    PIL images: load it without ``to_float32``.

    **Required Keys:** ``img``.

    **Modified Keys:** ``img`` (with ``second_size``, a list ``[model view,
    tokenizer view]`` of uint8 arrays), ``img_shape`` (of the first view).

    Args:
        size (int | Sequence[int]): Output (h, w) of the first (model) view.
        second_size (int | Sequence[int], optional): Output (h, w) of the
            second (tokenizer) view; None gives one view. Defaults to None.
        scale (Sequence[float]): Range of the crop area as a fraction of the
            image area (the official ``--min_crop_scale``, 1). Defaults to
            (0.08, 1.0).
        ratio (Sequence[float]): Range of the crop aspect ratio w / h.
            Defaults to (3/4, 4/3).
        interpolation (str): PIL filter of the first view (the official
            ``--train_interpolation``): 'bicubic', 'bilinear', 'lanczos',
            'hamming', 'nearest', 'box', or 'random' (bilinear or bicubic
            per image, ``random.choice``). Defaults to 'bilinear' (the
            official class default; its command passes bicubic).
        second_interpolation (str): PIL filter of the second view (the
            official ``--second_interpolation``; 'random' not allowed).
            Defaults to 'lanczos' (the official class and argparse default;
            its command passes bicubic).
    """

    def __init__(self,
                 size: Union[int, Sequence[int]],
                 second_size: Optional[Union[int, Sequence[int]]] = None,
                 scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 interpolation: str = 'bilinear',
                 second_interpolation: str = 'lanczos') -> None:
        _check_interpolation(interpolation, 'interpolation', True)
        _check_interpolation(second_interpolation, 'second_interpolation',
                             False)
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise UserInputError(
                'PILRandomResizedCropWithTwoPic: scale and ratio must be '
                f'(min, max) ranges, got scale={scale}, ratio={ratio}')
        self.size = _size_hw(size)
        self.second_size = None if second_size is None else \
            _size_hw(second_size)
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = interpolation
        self.second_interpolation = second_interpolation

    @staticmethod
    def get_params(height: int, width: int, scale: Sequence[float],
                   ratio: Sequence[float]) -> Tuple[int, int, int, int]:
        """Draw a crop box with the official algorithm (python ``random``).

        Args:
            height (int): Image height H.
            width (int): Image width W.
            scale (Sequence[float]): Range of the crop area fraction.
            ratio (Sequence[float]): Range of the crop aspect ratio w / h.

        Returns:
            tuple[int, int, int, int]: ``(top, left, h, w)``.
        """
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = random.uniform(*scale) * area
            aspect_ratio = math.exp(random.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if w <= width and h <= height:
                top = random.randint(0, height - h)
                left = random.randint(0, width - w)
                return top, left, h, w
        # Fallback: the centre crop, clamped to the ratio range.
        in_ratio = width / height
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def transform(self, results: Dict) -> Dict:
        """Crop ``results['img']`` and resize the crop to one or two sizes.

        Args:
            results (dict): The pipeline state, with a uint8 ``img``.

        Returns:
            dict: ``results`` with the view(s) in ``img``.
        """
        img = results['img']
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
            dtype = getattr(img, 'dtype', type(img).__name__)
            raise UserInputError(
                'PILRandomResizedCropWithTwoPic needs a uint8 image array, '
                f'got {dtype}; load images without to_float32=True')
        top, left, h, w = self.get_params(img.shape[0], img.shape[1],
                                          self.scale, self.ratio)
        interpolation = self.interpolation
        if interpolation == 'random':
            interpolation = random.choice(_RANDOM_INTERPOLATIONS)
        # Cutting the array is PIL's crop; only the box goes to PIL.
        crop = Image.fromarray(
            np.ascontiguousarray(img[top:top + h, left:left + w]))
        views = [self._resize(crop, self.size, interpolation)]
        if self.second_size is None:
            results['img'] = views[0]
        else:
            if (self.second_size, self.second_interpolation) == \
                    (self.size, interpolation):
                views.append(views[0].copy())  # the same resize: done once
            else:
                views.append(
                    self._resize(crop, self.second_size,
                                 self.second_interpolation))
            results['img'] = views
        results['img_shape'] = views[0].shape[:2]
        return results

    @staticmethod
    def _resize(crop: Image.Image, size: Tuple[int, int],
                interpolation: str) -> np.ndarray:
        out = crop.resize((size[1], size[0]),
                          PIL_INTERPOLATIONS[interpolation])
        # a writable copy: (h, w, C) or (h, w), uint8
        return np.array(out)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'second_size={self.second_size}, scale={self.scale}, '
                f'ratio={self.ratio}, interpolation={self.interpolation}, '
                f'second_interpolation={self.second_interpolation})')
