# Copyright (c) mmbeitv2 contributors. All rights reserved.
import numpy as np
import torch

from mmbeitv2.datasets.transforms import TorchRandomFlip


def test_flips_when_torch_rand_is_below_prob():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    t = TorchRandomFlip(prob=0.5)
    flips = []
    for seed in range(40):
        torch.manual_seed(seed)
        expected = bool(torch.rand(1) < 0.5)  # torchvision's draw
        torch.manual_seed(seed)
        out = t(dict(img=img.copy()))
        assert out['flip'] == expected
        assert out['flip_direction'] == ('horizontal' if expected else None)
        ref = img[:, ::-1] if expected else img
        assert np.array_equal(out['img'], ref)
        flips.append(expected)
    assert 0 < sum(flips) < 40
    assert not any(
        TorchRandomFlip(prob=0.)(dict(img=img))['flip'] for _ in range(5))
