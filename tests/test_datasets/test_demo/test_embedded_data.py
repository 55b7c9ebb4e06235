# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The demo's embedded CIFAR-10 subset: shipped in the package, unpacked
without network, class-balanced, reproducible by its converter; and the
CIFAR-10 python archive -> ImageFolder path of the cifar preset."""
import os
import os.path as osp
import pickle
import socket
import sys

import numpy as np
import pytest
from PIL import Image
from subprocess_utils import run

from mmbeitv2.datasets.demo import embedded_data
from mmbeitv2.datasets.demo.embedded_data import (CIFAR10_CLASSES,
                                                  CIFAR10_SUBSET,
                                                  extract_cifar10_subset)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError('network access')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)


def test_embedded_subset_counts_classes_and_images(tmp_path, no_network):
    assert osp.getsize(CIFAR10_SUBSET) < 3e6  # a few MB in the repository
    assert osp.isfile(osp.join(osp.dirname(CIFAR10_SUBSET), 'README.md'))
    root = extract_cifar10_subset(str(tmp_path))
    assert root == str(tmp_path / 'cifar10_subset')
    counts = embedded_data.count_images(root)
    assert counts == {'test': {c: 100 for c in CIFAR10_CLASSES},
                      'train': {c: 500 for c in CIFAR10_CLASSES}}
    for split, name in (('train', '0499.jpg'), ('test', '0000.jpg')):
        with Image.open(osp.join(root, split, 'ship', name)) as img:
            assert img.size == (32, 32) and img.mode == 'RGB'
    # real photos, not flat colours: per-image pixel spread
    with Image.open(osp.join(root, 'train', 'cat', '0000.jpg')) as img:
        assert np.asarray(img).std() > 20
    # idempotent: a complete tree is reused, a damaged one replaced
    mtime = os.stat(osp.join(root, 'train', 'cat', '0000.jpg')).st_mtime_ns
    assert extract_cifar10_subset(str(tmp_path)) == root
    assert os.stat(osp.join(root, 'train', 'cat',
                            '0000.jpg')).st_mtime_ns == mtime
    os.remove(osp.join(root, 'test', 'dog', '0042.jpg'))
    extract_cifar10_subset(str(tmp_path))
    assert embedded_data.count_images(root)['test']['dog'] == 100


def test_the_converter_remakes_the_shipped_archive(tmp_path):
    """The archive is what make_cifar10_subset.py writes from an
    ImageFolder of the CIFAR-10 JPEGs (byte for byte)."""
    root = extract_cifar10_subset(str(tmp_path))
    out = tmp_path / 'again.tar.gz'
    run([sys.executable, 'tools/dataset_converters/make_cifar10_subset.py',
         root, str(out)], cwd=REPO, check=True, capture_output=True,
        timeout=600)
    with open(out, 'rb') as a, open(CIFAR10_SUBSET, 'rb') as b:
        assert a.read() == b.read()


def _fake_python_archive(root: str, per_batch: int) -> None:
    """cifar-10-batches-py/ with ``per_batch`` random images per file."""
    folder = osp.join(root, 'cifar-10-batches-py')
    os.makedirs(folder)
    rng = np.random.RandomState(0)
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for name in names:
        batch = {'data': rng.randint(0, 256, (per_batch, 3072),
                                     dtype=np.uint8),
                 'labels': [i % 10 for i in range(per_batch)]}
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(batch, f)
    with open(osp.join(folder, 'batches.meta'), 'wb') as f:
        pickle.dump({'label_names': list(CIFAR10_CLASSES)}, f)


def test_python_archive_to_imagefolder(tmp_path, monkeypatch, no_network):
    from mmpretrain.datasets import CIFAR10

    from mmbeitv2.datasets.demo.cifar10_folder import cifar10_to_imagefolder
    root = str(tmp_path / 'cifar10')
    _fake_python_archive(root, per_batch=20)
    # the fake files cannot match the official md5 sums
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)
    msg = cifar10_to_imagefolder(root, download=False)
    assert 'train 100, test 20 images written' in msg
    counts = embedded_data.count_images(root)
    assert counts['train'] == {c: 10 for c in CIFAR10_CLASSES}
    assert counts['test'] == {c: 2 for c in CIFAR10_CLASSES}
    # pixels are the archive's, RGB, losslessly
    with open(osp.join(root, 'cifar-10-batches-py', 'test_batch'),
              'rb') as f:
        row = pickle.load(f)['data'][1]  # label 1: automobile, its first
    img = np.asarray(Image.open(osp.join(root, 'test', 'automobile',
                                         '0000.png')))
    np.testing.assert_array_equal(img, row.reshape(3, 32, 32).transpose(
        1, 2, 0))


def test_missing_cifar_is_one_clear_error(tmp_path, no_network):
    from mmbeitv2.datasets.demo.cifar10_folder import cifar10_to_imagefolder
    with pytest.raises(FileNotFoundError, match='python archive'):
        cifar10_to_imagefolder(str(tmp_path / 'none'), download=False)
