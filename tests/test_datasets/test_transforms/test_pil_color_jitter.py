# Copyright (c) mmbeitv2 contributors. All rights reserved.
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from mmpretrain.datasets.transforms import ColorJitter
from PIL import Image
from torchvision import transforms

from mmbeitv2.datasets.transforms import PILColorJitter
from mmbeitv2.errors import UserInputError

OPS = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation,
       TF.adjust_hue)


def photo(height=60, width=80, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 3., y * 4., (x + y) * 1.5], -1)
    return np.clip(base + rng.normal(0, 30, base.shape), 0,
                   255).astype(np.uint8)


def reference(rgb, order, factors):
    """torchvision's functional ops on a PIL image, in the given order."""
    img = Image.fromarray(rgb)
    for i in order:
        if factors[i] is not None:
            img = OPS[i](img, factors[i])
    return np.asarray(img).astype(int)


@pytest.mark.parametrize('channel_order', ['bgr', 'rgb'])
@pytest.mark.parametrize('hue', [0., 0.1])
def test_equals_torchvision_for_the_drawn_factors(channel_order, hue):
    rgb = photo()
    t = PILColorJitter(0.4, 0.4, 0.4, hue, channel_order=channel_order)
    inp = rgb[..., ::-1] if channel_order == 'bgr' else rgb
    seen_orders = set()
    for seed in range(12):
        torch.manual_seed(seed)
        order, *factors = transforms.ColorJitter.get_params(
            t.jitter.brightness, t.jitter.contrast, t.jitter.saturation,
            t.jitter.hue)
        assert all(0.6 <= f <= 1.4 for f in factors[:3])
        assert (factors[3] is None) == (hue == 0.)
        seen_orders.add(tuple(order.tolist()))
        torch.manual_seed(seed)
        out = t(dict(img=np.ascontiguousarray(inp)))['img']
        assert out.dtype == np.uint8 and out.flags.c_contiguous
        if channel_order == 'bgr':
            out = out[..., ::-1]
        diff = np.abs(out.astype(int) - reference(rgb, order, factors))
        assert diff.max() <= 1  # within 1/255; in fact exact:
        assert diff.max() == 0
    assert len(seen_orders) > 1  # the order is random


def test_same_torch_draws_as_torchvision_colorjitter():
    rgb = photo()
    torch.manual_seed(7)
    ref = np.asarray(transforms.ColorJitter(0.4, 0.4, 0.4)(
        Image.fromarray(rgb)))
    torch.manual_seed(7)
    out = PILColorJitter(0.4, 0.4, 0.4, channel_order='rgb')(
        dict(img=rgb))['img']
    assert np.array_equal(out, ref)
    assert not np.array_equal(out, rgb)


def test_mmpretrain_colorjitter_has_the_same_arithmetic():
    """The old pipeline's jitter: equal to torchvision's for its factors."""
    rgb = photo()
    t = ColorJitter(0.4, 0.4, 0.4, 0.)  # backend 'pillow', BGR input
    for seed in range(6):
        np.random.seed(seed)
        order, *factors = t._rand_params()
        np.random.seed(seed)
        out = t(dict(img=np.ascontiguousarray(rgb[..., ::-1])))['img']
        ref = reference(rgb, order, factors)
        assert np.abs(out[..., ::-1].astype(int) - ref).max() == 0


def test_errors():
    with pytest.raises(UserInputError, match='channel_order'):
        PILColorJitter(0.4, channel_order='gbr')
    with pytest.raises(UserInputError, match='to_float32'):
        PILColorJitter(0.4)(dict(img=photo().astype(np.float32)))
