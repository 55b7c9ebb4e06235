# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The embedded demo data set (shapes10) writer."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmbeitv2.datasets.demo.shapes10 import (SHAPES10_CLASSES,
                                             image_grid, render_image,
                                             write_demo_dataset)


def _digest(root: str) -> dict:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = osp.join(dirpath, f)
            with open(path, 'rb') as fh:
                out[osp.relpath(path, root)] = hashlib.md5(
                    fh.read()).hexdigest()
    return out


def test_layout_counts_and_format(tmp_path):
    root = str(tmp_path / 'shapes10')
    meta = write_demo_dataset(root, 3, 2)
    assert meta['classes'] == list(SHAPES10_CLASSES)
    assert sorted(os.listdir(root)) == ['meta.json', 'train', 'val']
    for split, n in (('train', 3), ('val', 2)):
        classes = sorted(os.listdir(osp.join(root, split)))
        assert classes == sorted(SHAPES10_CLASSES)
        for c in classes:
            files = sorted(os.listdir(osp.join(root, split, c)))
            assert files == [f'{c}_{i:05d}.png' for i in range(n)]
            img = Image.open(osp.join(root, split, c, files[0]))
            assert img.size == (32, 32) and img.mode == 'RGB'


def test_deterministic_and_seeded(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    write_demo_dataset(a, 2, 1, seed=0)
    write_demo_dataset(b, 2, 1, seed=0)
    write_demo_dataset(c, 2, 1, seed=1)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db  # byte-identical, meta.json included
    pngs = [k for k in da if k.endswith('.png')]
    assert len(pngs) == 30
    assert all(da[k] != dc[k] for k in pngs)
    # image i of a class does not depend on how many are written
    d = str(tmp_path / 'd')
    write_demo_dataset(d, 1, 1, seed=0)
    for k in _digest(d):
        if k.endswith('.png'):
            assert _digest(d)[k] == da[k]


def test_existing_dataset_is_reused(tmp_path):
    root = str(tmp_path / 's')
    write_demo_dataset(root, 1, 1)
    probe = osp.join(root, 'train', 'disk', 'disk_00000.png')
    os.utime(probe, (1, 1))
    write_demo_dataset(root, 1, 1)  # same arguments: nothing rewritten
    assert os.stat(probe).st_mtime == 1
    write_demo_dataset(root, 2, 1)  # other arguments: written again
    assert os.stat(probe).st_mtime > 1
    with open(osp.join(root, 'meta.json')) as f:
        assert json.load(f)['splits'] == dict(train=2, val=1)
    write_demo_dataset(root, 1, 1)  # smaller: no stale image survives
    assert os.listdir(osp.join(root, 'train', 'disk')) == ['disk_00000.png']


def test_colour_statistics_do_not_give_the_class():
    """A nearest-class-mean classifier on the mean RGB of the image stays
    near chance (10%), while the classes are still separable by shape
    (every class draws a different foreground mask)."""
    n = 30
    feats = np.zeros((len(SHAPES10_CLASSES), n, 3))
    for label in range(len(SHAPES10_CLASSES)):
        for i in range(n):
            rng = np.random.default_rng([7, label, i])
            img = np.asarray(render_image(label, rng), np.float32)
            feats[label, i] = img.reshape(-1, 3).mean(0)
    train, test = feats[:, :n // 2], feats[:, n // 2:]
    means = train.mean(1)  # (classes, 3)
    dist = ((test[:, :, None] - means[None, None]) ** 2).sum(-1)
    acc = (dist.argmin(-1) == np.arange(len(means))[:, None]).mean()
    assert acc < 0.25, acc


def test_custom_dataset_reads_it(tmp_path):
    from mmpretrain.datasets import CustomDataset
    root = str(tmp_path / 's')
    write_demo_dataset(root, 2, 1)
    ds = CustomDataset(data_root=root, data_prefix='train', pipeline=[])
    assert len(ds) == 20
    assert list(ds.metainfo['classes']) == sorted(SHAPES10_CLASSES)
    labels = sorted(ds.get_data_info(i)['gt_label'] for i in range(20))
    assert labels == sorted(list(range(10)) * 2)
    grid, classes = image_grid(root, 'val', per_class=1, scale=2)
    assert grid.size == (64, 640) and len(classes) == 10


def test_unknown_shape_raises():
    from mmbeitv2.datasets.demo import shapes10
    with pytest.raises(ValueError, match='unknown shape'):
        shapes10._shape_mask('blob', 8, 4, 4, 2, 0.,
                             np.random.default_rng(0))
