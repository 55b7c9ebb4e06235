# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math
import random

import numpy as np
import pytest
import torch

from mmbeitv2.datasets.transforms import BlockwiseMaskGenerator


class RecordingGenerator(BlockwiseMaskGenerator):
    """Records (h, w, budget) of every block it places, read off the
    corner draws ``randint(0, H - h)``, ``randint(0, W - w)``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks = []
        self._bounds = []

    def _mask_block(self, mask, budget):
        real_randint = random.randint

        def randint(a, b):
            self._bounds.append(b)
            return real_randint(a, b)

        random.randint = randint
        try:
            delta = super()._mask_block(mask, budget)
        finally:
            random.randint = real_randint
        if delta:
            # a successful attempt ends the round: the last two draws
            h, w = self.height - self._bounds[-2], self.width - \
                self._bounds[-1]
            self.blocks.append((h, w, budget))
        self._bounds.clear()
        return delta


# the paper's 14x14 masks: 75 patches, blocks of at least 16
PAPER = dict(
    input_size=224, patch_size=16, num_masking_patches=75, min_num_patches=16)


def _draw(gen, n, seed=0):
    random.seed(seed)
    np.random.seed(seed)
    return np.stack([gen.generate() for _ in range(n)])


def test_sizes_follow_input_and_patch_size():
    gen = BlockwiseMaskGenerator(input_size=224, patch_size=16)
    assert (gen.height, gen.width, gen.num_masking_patches) == (14, 14, 75)
    assert gen.max_num_patches == 75
    # the tiny fixture grid: 32 / 8 -> 4x4, 6 masked (official tiny run)
    gen = BlockwiseMaskGenerator(input_size=32, patch_size=8)
    assert (gen.height, gen.width, gen.num_masking_patches) == (4, 4, 6)
    gen = BlockwiseMaskGenerator(
        input_size=(32, 48), patch_size=4, num_masking_patches=40)
    assert (gen.height, gen.width) == (8, 12)
    assert gen.generate().shape == (8, 12)
    with pytest.raises(ValueError, match='num_masking_patches'):
        BlockwiseMaskGenerator(
            input_size=32, patch_size=8, num_masking_patches=17)


def test_exact_count_and_cell_frequency():
    gen = BlockwiseMaskGenerator(**PAPER)
    masks = _draw(gen, 1000)
    assert masks.dtype == bool and masks.shape == (1000, 14, 14)
    # exactly 75 every time (the v2 top-up, docs/official.md §2.4)
    assert (masks.reshape(1000, -1).sum(1) == 75).all()
    freq = masks.mean(0)
    assert freq.mean() == pytest.approx(75 / 196)
    # every cell gets masked, none almost always: blocks are placed
    # anywhere, including the last row/column (inclusive randint)
    assert freq.min() > 0.02 and freq.max() < 0.8
    # centre-heavy (blocks overlap the middle more often than the border)
    assert freq[5:9, 5:9].mean() > 2 * freq[0].mean()
    assert masks[:, -1, :].any() and masks[:, :, -1].any()
    # the algorithm is symmetric: no bias to one side (an exclusive corner
    # randint would starve the last row/column)
    assert np.abs(freq - freq[::-1, :]).max() < 0.07
    assert np.abs(freq - freq[:, ::-1]).max() < 0.07
    assert abs(freq[:, -1].mean() - freq[:, 0].mean()) < 0.02
    assert abs(freq[-1].mean() - freq[0].mean()) < 0.02


def test_block_size_and_aspect_distribution():
    gen = RecordingGenerator(**PAPER)
    _draw(gen, 500)
    blocks = np.array(gen.blocks)
    assert len(blocks) > 1000
    h, w, budget = blocks.T
    # strict h, w < 14: never a full row or column (docs/official.md §6.6)
    assert h.max() < 14 and w.max() < 14
    area, aspect = h * w, h / w
    # Every mask's first block draws area U(16, 75), aspect in [0.3, 3.33];
    # only rounding moves it out: ~1.5% of them (the official
    # fixture's statistics agree).
    first = budget == 75
    assert first.sum() == 500
    outside = (area < 16) | (aspect < 0.3 - 1e-9) | (aspect > 1 / 0.3 + 1e-9)
    assert outside[first].mean() < 0.04
    assert 35 <= np.median(area[first]) <= 55
    # log-uniform aspect: symmetric in log space around 1
    log_aspect = np.log(aspect[first])
    assert abs(np.median(log_aspect)) < 0.15
    assert 0.2 < (log_aspect > 0.5).mean() < 0.45
    assert 0.2 < (log_aspect < -0.5).mean() < 0.45
    # later blocks with a budget under 16 draw U(16, budget): small blocks
    # (about 93% under 16 patches), never more new cells than the budget
    late = budget < 16
    assert late.sum() > 300 and (area[late] < 16).mean() > 0.8


def test_determinism_under_seed():
    gen = BlockwiseMaskGenerator(input_size=224, patch_size=16)
    a, b = _draw(gen, 50, seed=3), _draw(gen, 50, seed=3)
    c = _draw(gen, 50, seed=4)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    # masks differ between successive draws
    assert len({m.tobytes() for m in a}) == 50


def test_blocks_use_python_random_and_topup_numpy(monkeypatch):
    """The official generator's two random sources: python ``random`` for
    blocks, ``np.random`` for the top-up."""
    gen = BlockwiseMaskGenerator(input_size=224, patch_size=16)
    picks = []  # cells of each np.random.choice call (the top-up)
    choice = np.random.choice

    def counting_choice(*args, **kwargs):
        picks.append(args[1])
        return choice(*args, **kwargs)

    monkeypatch.setattr(np.random, 'choice', counting_choice)

    def draw(py_seed, np_seed):
        random.seed(py_seed)
        np.random.seed(np_seed)
        picks.clear()
        mask = gen.generate()
        assert mask.sum() == 75
        return mask, sum(picks)

    # blocks alone reach 75 under python seed 0: no top-up, and the numpy
    # seed changes nothing
    masks = [draw(0, s) for s in range(20)]
    assert all(k == 0 for _, k in masks)
    assert len({m.tobytes() for m, _ in masks}) == 1
    # a python seed whose blocks stop short of 75: the numpy seed moves
    # exactly the top-up cells, the block cells stay
    py_seed = next(s for s in range(100) if draw(s, 0)[1] > 0)
    masks = [draw(py_seed, s) for s in range(20)]
    topup = masks[0][1]
    assert all(k == topup for _, k in masks)
    common = np.logical_and.reduce([m for m, _ in masks])
    assert common.sum() == 75 - topup
    assert len({m.tobytes() for m, _ in masks}) > 1
    # the python seed moves the blocks: 20 seeds, 20 masks
    masks = {draw(s, 0)[0].tobytes() for s in range(20)}
    assert len(masks) == 20


def test_transform_and_pack():
    from mmpretrain.datasets.transforms import PackInputs
    gen = BlockwiseMaskGenerator(
        input_size=32, patch_size=4, num_masking_patches=26, min_num_patches=8)
    results = gen(dict(img=np.zeros((32, 32, 3), np.uint8)))
    assert results['mask'].shape == (8, 8) and results['mask'].sum() == 26
    packed = PackInputs(algorithm_keys=['mask'])(results)
    mask = packed['data_samples'].mask
    # numpy in the pipeline; BEiTv2.loss stacks it as a tensor
    assert torch.as_tensor(mask).shape == (8, 8)
    assert int(torch.as_tensor(mask).sum()) == 26
    assert 'num_masking_patches=26' in repr(gen)
    assert math.isclose(gen.log_aspect_ratio[1], -math.log(0.3))
