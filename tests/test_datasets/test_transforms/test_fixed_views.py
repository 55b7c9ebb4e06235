# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""FixedViews: each image has num_views fixed augmentations, drawn at
random, with global view ids; the outer random state is not disturbed."""
import random

import numpy as np
import pytest

from mmbeitv2.registry import TRANSFORMS
from mmbeitv2.utils import register_all_modules

CROP_FLIP = [
    dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]


def build(num_views=3, seed=0):
    register_all_modules()
    return TRANSFORMS.build(dict(type='FixedViews', transforms=CROP_FLIP,
                                 num_views=num_views, seed=seed))


def image(idx):
    rng = np.random.RandomState(idx)
    img = rng.randint(0, 256, (32, 32, 3), dtype=np.uint8)
    return dict(img=img, img_shape=(32, 32), ori_shape=(32, 32),
                sample_idx=idx)


def _view_pixels(idx, view_id, seed=0):
    """What FixedViews documents for a view: CROP_FLIP under Python's and
    NumPy's generators seeded by ``hash((seed, view_id))``."""
    from mmcv.transforms import Compose
    transforms = Compose([TRANSFORMS.build(t) for t in CROP_FLIP])
    state = random.getstate(), np.random.get_state()
    try:
        random.seed(hash((seed, view_id)) % 2**32)
        np.random.seed(hash((seed, view_id)) % 2**32)
        return transforms(image(idx))['img']
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])


@pytest.mark.parametrize('num_views', [3, 5])
def test_same_view_id_gives_the_same_pixels_and_ids_are_global(num_views):
    t = build(num_views=num_views)
    np.random.seed(0)
    # the view is the call's one draw from the outer NumPy generator
    draws = np.random.RandomState(0)
    seen = {}
    for _ in range(20 * num_views):
        for idx in (0, 7):
            out = t(image(idx))
            vid = out['view_id']
            assert vid == idx * num_views + draws.randint(num_views)
            if vid in seen:
                np.testing.assert_array_equal(out['img'], seen[vid])
            else:
                np.testing.assert_array_equal(out['img'],
                                              _view_pixels(idx, vid))
            seen[vid] = out['img']
    # every view of both images was drawn, and the views differ
    assert sorted(seen) == [*range(num_views),
                            *range(7 * num_views, 8 * num_views)]
    assert len({v.tobytes() for v in seen.values()}) == len(seen)
    assert seen[0].shape == (16, 16, 3)


def test_outer_random_state_is_restored():
    t = build()
    np.random.seed(3)
    random.seed(3)
    t(image(1))
    after = np.random.rand(), random.random()
    np.random.seed(3)
    random.seed(3)
    np.random.randint(3)  # the view draw is the only outer draw
    assert after == (np.random.rand(), random.random())


def test_bad_num_views():
    with pytest.raises(ValueError, match='num_views'):
        build(num_views=0)
