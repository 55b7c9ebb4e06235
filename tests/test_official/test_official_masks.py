# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The block-wise masks of the official ``MaskingGenerator`` (fixture:
200 successive draws after ``random.seed(0); np.random.seed(0)``)."""
import os.path as osp
import random

import numpy as np
import pytest
import torch

from mmbeitv2.datasets.transforms import BlockwiseMaskGenerator

FIXTURE = osp.join(
    osp.dirname(__file__), '..', 'data', 'official', 'masks_14x14_seed0.pth')


@pytest.mark.official
def test_reproduces_official_masks_exactly():
    ref = torch.load(FIXTURE, weights_only=True)['masks']  # (200, 14, 14)
    gen = BlockwiseMaskGenerator(
        input_size=224,
        patch_size=16,
        num_masking_patches=75,
        min_num_patches=16,
        max_num_patches=None,
        min_aspect=0.3)
    random.seed(0)
    np.random.seed(0)
    ours = torch.from_numpy(np.stack([gen.generate() for _ in range(200)]))
    assert ours.shape == ref.shape == (200, 14, 14)
    assert (ref.flatten(1).sum(1) == 75).all()
    # bit-exact: same random calls, same order
    assert torch.equal(ours, ref.bool())
