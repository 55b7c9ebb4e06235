# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/masking_generator.py  # noqa: E501
import math
import random
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmbeitv2.registry import TRANSFORMS


def _pair(x: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (x, x) if isinstance(x, int) else tuple(x)


@TRANSFORMS.register_module()
class BlockwiseMaskGenerator(BaseTransform):
    """Block-wise masking of BEiT v2 (docs/official.md §2.4), the official
    algorithm.

    Rectangular blocks (area ``U(min_num_patches, budget)``, log-uniform
    aspect ratio, ``h < grid_h and w < grid_w`` strictly, inclusive corner
    draws) are placed until ``num_masking_patches`` patches are masked or a
    round of 10 attempts adds nothing; then the remaining budget is filled
    with random single patches (the v2 top-up), so every mask has exactly
    ``num_masking_patches`` patches.

    It makes the same random calls as the official ``MaskingGenerator``
    (python ``random.uniform`` / ``random.randint`` for blocks, then
    ``np.random.choice`` for the top-up), so under the same global seeds it
    draws the same masks. mmpretrain's ``BEiTMaskGenerator`` differs: an
    exclusive ``np.random.randint`` for the corner (a block never touches
    the last row/column) and retries instead of the top-up.

    **Added Keys:** ``mask`` (np.ndarray of bool, (H, W) patch grid,
    True = masked, raster order).

    Args:
        input_size (int | Sequence[int]): Image size of the model view.
            Defaults to 224.
        patch_size (int): Patch size; the grid is ``input_size //
            patch_size``. Defaults to 16.
        num_masking_patches (int, optional): Patches masked per image. None
            gives ``round(N * 75 / 196)`` (the official 75 of 196, about
            38%). Defaults to None.
        min_num_patches (int): Smallest block area drawn. Defaults to 16.
        max_num_patches (int, optional): Largest block area; None means
            ``num_masking_patches``. Defaults to None.
        min_aspect (float): Smallest block aspect ratio. Defaults to 0.3.
        max_aspect (float, optional): Largest; None means
            ``1 / min_aspect``. Defaults to None.
    """

    def __init__(self,
                 input_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 num_masking_patches: Optional[int] = None,
                 min_num_patches: int = 16,
                 max_num_patches: Optional[int] = None,
                 min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None) -> None:
        img_h, img_w = _pair(input_size)
        self.height, self.width = img_h // patch_size, img_w // patch_size
        num_patches = self.height * self.width
        if num_masking_patches is None:
            # 75 of 196 in the official base/large recipes (docs/official.md
            # §2.4).
            num_masking_patches = int(round(num_patches * 75 / 196))
        if not 0 < num_masking_patches <= num_patches:
            raise ValueError(
                f'BlockwiseMaskGenerator: num_masking_patches must be in '
                f'(0, {num_patches}], got {num_masking_patches}')
        self.num_masking_patches = num_masking_patches
        self.min_num_patches = min_num_patches
        self.max_num_patches = num_masking_patches \
            if max_num_patches is None else max_num_patches
        max_aspect = max_aspect or 1 / min_aspect
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))

    def _mask_block(self, mask: np.ndarray, budget: int) -> int:
        """Try up to 10 times to place one block; return the patches added.

        Args:
            mask (np.ndarray): (H, W) int mask, updated in place.
            budget (int): Most patches this block may add.

        Returns:
            int: Newly masked patches (0 if every attempt failed).
        """
        delta = 0
        for _ in range(10):
            # python random, exactly as unilm (works even if budget < min).
            area = random.uniform(self.min_num_patches, budget)
            aspect = math.exp(random.uniform(*self.log_aspect_ratio))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            # strict: a block never spans a full row or column
            # (docs/official.md §6.6)
            if w < self.width and h < self.height:
                top = random.randint(0, self.height - h)  # inclusive
                left = random.randint(0, self.width - w)
                num_new = h * w - mask[top:top + h, left:left + w].sum()
                if 0 < num_new <= budget:
                    mask[top:top + h, left:left + w] = 1
                    delta += num_new
                if delta > 0:
                    break
        return int(delta)

    def generate(self) -> np.ndarray:
        """Draw one mask.

        Returns:
            np.ndarray: (H, W) bool, exactly ``num_masking_patches`` True.
        """
        mask = np.zeros((self.height, self.width), dtype=np.int64)
        count = 0
        while count < self.num_masking_patches:
            budget = min(self.num_masking_patches - count,
                         self.max_num_patches)
            delta = self._mask_block(mask, budget)
            if delta == 0:
                break
            count += delta
        if count < self.num_masking_patches:
            # v2 top-up: random single patches (docs/official.md §2.4)
            rows, cols = (mask == 0).nonzero()
            pick = np.random.choice(
                rows.shape[0], self.num_masking_patches - count, replace=False)
            mask[rows[pick], cols[pick]] = 1
        return mask.astype(bool)

    def transform(self, results: dict) -> dict:
        """Add ``results['mask']``, (H, W) bool."""
        results['mask'] = self.generate()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(grid=({self.height}, '
                f'{self.width}), num_masking_patches='
                f'{self.num_masking_patches}, min_num_patches='
                f'{self.min_num_patches}, max_num_patches='
                f'{self.max_num_patches}, log_aspect_ratio='
                f'{self.log_aspect_ratio})')
