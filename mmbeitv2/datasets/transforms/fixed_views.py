# Copyright (c) mmbeitv2 contributors. All rights reserved.
import random
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mmbeitv2.registry import TRANSFORMS


@TRANSFORMS.register_module()
class FixedViews(BaseTransform):
    """Random augmentation drawn from a fixed set of views per image.

    Each call picks one of ``num_views`` views of the image at random and
    runs ``transforms`` with Python's and NumPy's random generators seeded
    by ``(seed, sample_idx, view)``, so view ``v`` of image ``i`` is the
    same crop and flip every time it is drawn. The view gets a global id,
    ``view_id = sample_idx * num_views + v``, stored in the results (pack it
    with ``PackInputs(algorithm_keys=['view_id'])``).

    Why: with a finite set of views, anything computed from a view by a
    frozen network can be computed once and reused, e.g. the VQ-KD
    teacher's features (``CachedTeacher``: ``cache=True`` in the
    tokenizer's teacher config). It is a
    named speed option of the small CPU configs, not the paper's setup
    (which draws a new crop every time): the tokenizer then sees
    ``num_views`` crops per image instead of one per epoch.

    Required keys: ``sample_idx`` (set by every mmengine dataset) and what
    ``transforms`` need. Added keys: ``view_id`` and what ``transforms``
    add.

    Args:
        transforms (list[dict]): The random transforms to fix, e.g.
            ``RandomResizedCrop`` and ``RandomFlip`` (they must draw their
            randomness from ``random`` or ``numpy.random``).
        num_views (int): Views per image.
        seed (int): Base seed of the views. Defaults to 0.
    """

    def __init__(self, transforms: List[dict], num_views: int,
                 seed: int = 0) -> None:
        if num_views < 1:
            raise ValueError(f'FixedViews: num_views must be >= 1, got '
                             f'{num_views}')
        self.transforms = Compose(transforms)
        self.num_views = num_views
        self.seed = seed

    def transform(self, results: dict) -> Optional[dict]:
        view = int(np.random.randint(self.num_views))
        view_id = int(results['sample_idx']) * self.num_views + view
        outer = random.getstate(), np.random.get_state()
        seed = hash((self.seed, view_id)) % 2**32
        random.seed(seed)
        np.random.seed(seed)
        try:
            results = self.transforms(results)
        finally:
            random.setstate(outer[0])
            np.random.set_state(outer[1])
        if results is not None:
            results['view_id'] = view_id
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_views={self.num_views}, '
                f'seed={self.seed}, transforms={self.transforms})')
