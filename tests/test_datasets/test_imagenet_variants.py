# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The ImageNet-A/-R class index lists and ``ImageNetVariant`` on tiny fake
folders with the real layouts."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmbeitv2.datasets import ImageNetVariant
from mmbeitv2.datasets.imagenet_variants import (IMAGENET_A_INDICES,
                                                 IMAGENET_R_INDICES,
                                                 IMAGENET_WNIDS,
                                                 get_subset_indices)
from mmbeitv2.datasets.imagenet_wnids import (IMAGENET_A_WNIDS,
                                              IMAGENET_R_WNIDS)
from mmbeitv2.errors import UserInputError


def test_imagenet_wnids_are_the_sorted_1000_classes():
    assert len(IMAGENET_WNIDS) == len(set(IMAGENET_WNIDS)) == 1000
    assert list(IMAGENET_WNIDS) == sorted(IMAGENET_WNIDS)
    assert IMAGENET_WNIDS[0] == 'n01440764'  # tench, class 0
    assert IMAGENET_WNIDS[999] == 'n15075141'  # toilet tissue, class 999


@pytest.mark.parametrize('indices,wnids', [
    (IMAGENET_A_INDICES, IMAGENET_A_WNIDS),
    (IMAGENET_R_INDICES, IMAGENET_R_WNIDS),
])
def test_subset_indices(indices, wnids):
    assert len(indices) == 200
    assert indices == sorted(set(indices))  # sorted, unique
    assert 0 <= indices[0] and indices[-1] <= 999
    assert [IMAGENET_WNIDS[i] for i in indices] == sorted(wnids)
    assert len(set(wnids)) == 200


def test_subset_indices_match_published_ones():
    # hendrycks/natural-adv-examples eval.py, thousand_k_to_200: the first
    # ImageNet-1k indices of ImageNet-A and the last one
    assert IMAGENET_A_INDICES[:5] == [6, 11, 13, 15, 17]
    assert IMAGENET_A_INDICES[-1] == 988
    # goldfish (1), great white shark (2), hammerhead (4) are in ImageNet-R
    assert IMAGENET_R_INDICES[:3] == [1, 2, 4]
    # A and R overlap but differ
    assert len(set(IMAGENET_A_INDICES) & set(IMAGENET_R_INDICES)) < 200


def test_subset_indices_match_timm():
    """timm ships the same lists (data/_info/imagenet_{a,r}_indices.txt),
    made independently from the same sources."""
    timm = pytest.importorskip('timm')
    info = osp.join(osp.dirname(timm.__file__), 'data', '_info')
    for name, ours in (('a', IMAGENET_A_INDICES), ('r', IMAGENET_R_INDICES)):
        path = osp.join(info, f'imagenet_{name}_indices.txt')
        if not osp.exists(path):
            pytest.skip(f'{path} missing in this timm')
        with open(path) as f:
            assert [int(x) for x in f.read().split()] == ours
    with open(osp.join(info, 'imagenet_synsets.txt')) as f:
        assert f.read().split() == list(IMAGENET_WNIDS)


def test_get_subset_indices():
    assert get_subset_indices('imagenet-a') == IMAGENET_A_INDICES
    assert get_subset_indices('imagenet-sketch') == list(range(1000))
    with pytest.raises(UserInputError, match="unknown ImageNet variant 'x'"):
        get_subset_indices('x')


def _make(root, layout):
    rng = np.random.default_rng(0)
    for folder, count in layout.items():
        (root / folder).mkdir(parents=True)
        for i in range(count):
            arr = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / folder / f'{i}.png')
    return str(root)


def _labels(dataset):
    return {
        osp.basename(osp.dirname(d['img_path'])): d['gt_label']
        for d in dataset.load_data_list()
    }


def test_v2_folders_are_class_indices(tmp_path):
    folders = ['0', '1', '10', '100', '2', '999']
    root = _make(tmp_path, {f: 1 for f in folders})
    dataset = ImageNetVariant(
        variant='imagenet-v2', data_root=root, pipeline=[])
    assert _labels(dataset) == {f: int(f) for f in folders}
    assert len(dataset.metainfo['classes']) == 1000


def test_v2_rejects_a_non_index_folder(tmp_path):
    root = _make(tmp_path, {'3': 1, 'n01440764': 1})
    with pytest.raises(UserInputError, match='not class indices 0-999'):
        ImageNetVariant(variant='imagenet-v2', data_root=root, pipeline=[])


def test_sketch_is_1000_way(tmp_path):
    # class 0 and class 999 are in neither ImageNet-A nor ImageNet-R
    wnids = [IMAGENET_WNIDS[0], IMAGENET_WNIDS[IMAGENET_A_INDICES[3]],
             IMAGENET_WNIDS[999]]
    root = _make(tmp_path, {w: 2 for w in wnids})
    dataset = ImageNetVariant(
        variant='imagenet-sketch', data_root=root, pipeline=[])
    assert _labels(dataset) == {
        wnids[0]: 0, wnids[1]: IMAGENET_A_INDICES[3], wnids[2]: 999}
    assert len(dataset) == 6


def test_a_r_keep_imagenet_labels_and_reject_other_classes(tmp_path):
    wnids = [IMAGENET_WNIDS[i] for i in IMAGENET_R_INDICES[5:8]]
    root = _make(tmp_path / 'r', {w: 1 for w in wnids})
    dataset = ImageNetVariant(
        variant='imagenet-r', data_root=root, pipeline=[])
    # labels are ImageNet-1k indices, not folder ranks 0, 1, 2
    assert sorted(_labels(dataset).values()) == IMAGENET_R_INDICES[5:8]
    not_a = IMAGENET_WNIDS[0]
    root = _make(tmp_path / 'a', {IMAGENET_WNIDS[6]: 1, not_a: 1})
    with pytest.raises(UserInputError,
                       match=f'not wnids of the 200 imagenet-a classes: '
                       f'{not_a}'):
        ImageNetVariant(variant='imagenet-a', data_root=root, pipeline=[])


def test_val_with_mmpretrain_ann_file(tmp_path):
    root = _make(tmp_path, {'val': 2})
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta' / 'val.txt').write_text('0.png 65\n1.png 970\n')
    dataset = ImageNetVariant(
        variant='imagenet',
        data_root=root,
        data_prefix='val',
        ann_file='meta/val.txt',
        pipeline=[])
    assert [d['gt_label'] for d in dataset.load_data_list()] == [65, 970]
    with pytest.raises(UserInputError, match='outside the imagenet-a'):
        ImageNetVariant(
            variant='imagenet-a',
            data_root=root,
            data_prefix='val',
            ann_file='meta/val.txt',
            pipeline=[])


def test_missing_and_unknown(tmp_path):
    with pytest.raises(UserInputError, match='dataset folder not found'):
        ImageNetVariant(
            variant='imagenet-a', data_root=str(tmp_path / 'x'), pipeline=[])
    with pytest.raises(UserInputError, match="unknown ImageNet variant"):
        ImageNetVariant(
            variant='imagenet-c', data_root=str(tmp_path), pipeline=[])
