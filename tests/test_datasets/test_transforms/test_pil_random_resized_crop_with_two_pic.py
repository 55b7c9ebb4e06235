# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math
import random

import numpy as np
import pytest
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from mmbeitv2.datasets.transforms import PILRandomResizedCropWithTwoPic
from mmbeitv2.errors import UserInputError

MODES = {
    'bicubic': InterpolationMode.BICUBIC,
    'bilinear': InterpolationMode.BILINEAR,
    'lanczos': InterpolationMode.LANCZOS,
    'hamming': InterpolationMode.HAMMING,
}


def official_box(width, height, scale, ratio):
    """The box of the official ``get_params`` (beit2/transforms.py), written
    out step by step: ``w <= W`` accepted, inclusive corners, fallback."""
    area = width * height
    for _ in range(10):
        target_area = random.uniform(*scale) * area
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        aspect_ratio = math.exp(random.uniform(*log_ratio))
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if w <= width and h <= height:
            return (random.randint(0, height - h),
                    random.randint(0, width - w), h, w)
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def photo(height, width, seed=0):
    """A smooth image with texture: gradients plus noise, uint8 RGB."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255. / width, y * 255. / height,
                     (x + y) * 127. / (width + height)], -1)
    return np.clip(base + rng.normal(0, 40, base.shape), 0,
                   255).astype(np.uint8)


@pytest.mark.parametrize('width,height', [(640, 480), (48, 40), (300, 90),
                                          (33, 700), (224, 224)])
def test_box_is_the_official_one(width, height):
    for seed in range(200):
        random.seed(seed)
        box = PILRandomResizedCropWithTwoPic.get_params(
            height, width, (0.08, 1.0), (3 / 4, 4 / 3))
        after = random.random()
        random.seed(seed)
        assert box == official_box(width, height, (0.08, 1.0), (3 / 4, 4 / 3))
        assert after == random.random()  # the same draws were consumed
        top, left, h, w = box
        assert 0 <= top <= height - h and 0 <= left <= width - w


def test_full_width_box_is_accepted():
    # w = W, h = H is drawn at once (mmpretrain's strict `w < W` rejects it
    # and falls back after 10 attempts); the official accepts it.
    random.seed(0)
    box = PILRandomResizedCropWithTwoPic.get_params(50, 60, (1., 1.),
                                                    (1.2, 1.2))
    assert box == (0, 0, 50, 60)
    random.seed(0)
    for _ in range(2):
        random.uniform(0, 1)
    random.randint(0, 0), random.randint(0, 0)
    expected_next = random.random()
    random.seed(0)
    PILRandomResizedCropWithTwoPic.get_params(50, 60, (1., 1.), (1.2, 1.2))
    assert random.random() == expected_next  # one attempt, no fallback


def test_corners_reach_the_last_row_and_column():
    tops, lefts = set(), set()
    for seed in range(400):
        random.seed(seed)
        top, left, h, w = PILRandomResizedCropWithTwoPic.get_params(
            20, 20, (0.25, 0.25), (1., 1.))
        assert (h, w) == (10, 10)
        tops.add(top)
        lefts.add(left)
    assert tops == lefts == set(range(11))  # randint(0, H - h) inclusive


def test_fallback_is_the_ratio_clamped_centre_crop():
    # 400 x 20: no box of area >= 8% with ratio <= 4/3 fits in 20 rows
    random.seed(0)
    box = PILRandomResizedCropWithTwoPic.get_params(20, 400, (0.08, 1.0),
                                                    (3 / 4, 4 / 3))
    assert box == (0, (400 - 27) // 2, 20, 27)
    random.seed(0)
    box = PILRandomResizedCropWithTwoPic.get_params(400, 20, (0.08, 1.0),
                                                    (3 / 4, 4 / 3))
    assert box == ((400 - 27) // 2, 0, 27, 20)


@pytest.mark.parametrize(
    'height,width',
    [
        (480, 640),  # shrink
        (40, 56),  # enlarge
        (90, 300),  # shrink one side, enlarge the other, aspect changes
    ])
@pytest.mark.parametrize('interps', [('bicubic', 'bicubic'),
                                     ('bilinear', 'lanczos'),
                                     ('hamming', 'bicubic')])
def test_views_equal_torchvision_resized_crop(height, width, interps):
    rgb = photo(height, width)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    pil = Image.fromarray(rgb)
    sizes = ((224, 224), (112, 96))
    t = PILRandomResizedCropWithTwoPic(
        size=sizes[0],
        second_size=sizes[1],
        scale=(0.08, 1.0),
        interpolation=interps[0],
        second_interpolation=interps[1])
    for seed in range(5):
        random.seed(seed)
        results = t(dict(img=bgr.copy()))
        random.seed(seed)
        box = official_box(width, height, (0.08, 1.0), (3 / 4, 4 / 3))
        views = results['img']
        assert results['img_shape'] == sizes[0]
        for view, size, interp in zip(views, sizes, interps):
            assert view.dtype == np.uint8 and view.shape == (*size, 3)
            ref = np.asarray(
                TF.resized_crop(pil, *box, list(size), MODES[interp]))
            diff = np.abs(view[..., ::-1].astype(int) - ref).max()
            assert diff <= 1, (seed, interp, diff)
            assert diff == 0  # in fact bit-exact


def test_same_size_and_filter_views_are_equal_copies():
    t = PILRandomResizedCropWithTwoPic(
        224, 224, interpolation='bicubic', second_interpolation='bicubic')
    random.seed(3)
    model_view, tok_view = t(dict(img=photo(100, 130)))['img']
    assert np.array_equal(model_view, tok_view)
    assert not np.shares_memory(model_view, tok_view)


def test_one_view_and_random_interpolation():
    rgb = photo(64, 80)
    t = PILRandomResizedCropWithTwoPic(32, interpolation='random')
    picks = set()
    for seed in range(20):
        random.seed(seed)
        out = t(dict(img=rgb.copy()))['img']
        random.seed(seed)
        box = official_box(80, 64, t.scale, t.ratio)
        mode = random.choice(('bilinear', 'bicubic'))  # after the box
        picks.add(mode)
        ref = np.asarray(
            TF.resized_crop(Image.fromarray(rgb), *box, [32, 32],
                            MODES[mode]))
        assert isinstance(out, np.ndarray) and np.array_equal(out, ref)
    assert picks == {'bilinear', 'bicubic'}


def test_grayscale_image():
    gray = photo(50, 70)[..., 0]
    random.seed(1)
    views = PILRandomResizedCropWithTwoPic(16, 16)(dict(img=gray))['img']
    assert [v.shape for v in views] == [(16, 16), (16, 16)]


def test_errors_name_the_fix():
    with pytest.raises(UserInputError, match='to_float32'):
        PILRandomResizedCropWithTwoPic(8)(
            dict(img=photo(20, 20).astype(np.float32)))
    with pytest.raises(UserInputError, match="second_interpolation='cubic'"):
        PILRandomResizedCropWithTwoPic(8, 8, second_interpolation='cubic')
    with pytest.raises(UserInputError, match='second_interpolation'):
        PILRandomResizedCropWithTwoPic(8, 8, second_interpolation='random')
    with pytest.raises(UserInputError, match='ranges'):
        PILRandomResizedCropWithTwoPic(8, scale=(1.0, 0.2))
