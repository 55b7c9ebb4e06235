# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""CIFAR-10's official python archive -> the ImageFolder tree the CIFAR-10
benchmark configs read (``{train,test}/<class>/NNNN.png``).

The archive is read through mmpretrain's ``CIFAR10`` data set, which checks
its md5 sums and, with ``download=True`` on a networked machine, fetches it
first (https://www.cs.toronto.edu/~kriz/cifar.html). Images are written as
PNG (lossless); the benchmark's recorded numbers were measured on JPEG
re-encodes of the same images (docs/demo.md).
"""
import os
import os.path as osp

from .embedded_data import CIFAR10_CLASSES, count_images


def cifar10_split(root: str, split: str, download: bool = True):
    """mmpretrain's ``CIFAR10`` on the python archive in ``root``
    (``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``), md5-checked;
    ``get_data_info(i)`` gives ``img`` (RGB uint8, 32 x 32 x 3) and
    ``gt_label`` in the archive's order. A missing archive is one
    ``FileNotFoundError`` line."""
    from mmpretrain.datasets import CIFAR10
    try:
        return CIFAR10(data_root=root, split=split, download=download,
                       pipeline=[])
    except (RuntimeError, AssertionError, OSError) as e:
        raise FileNotFoundError(
            f'{root}: no CIFAR-10 found ({type(e).__name__}: '
            f'{str(e).splitlines()[0]}); give an ImageFolder '
            '({train,test}/<class>/*) or the official python archive '
            '(cifar-10-python.tar.gz or cifar-10-batches-py/) in it, or '
            'run once on a networked machine to download it') from e


def cifar10_to_imagefolder(root: str, download: bool = True) -> str:
    """Write ``root/{train,test}/<class>/NNNN.png`` from the python archive
    in ``root`` (``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``).

    Idempotent: splits that are complete (5,000 / 1,000 images per class)
    are kept. Returns a one-line summary.
    """
    from PIL import Image
    expected = dict(train=5000, test=1000)
    written = []
    for split, per_class in expected.items():
        counts = count_images(root).get(split, {}) if osp.isdir(root) \
            else {}
        if counts == {c: per_class for c in CIFAR10_CLASSES}:
            continue
        dataset = cifar10_split(root, split, download)
        seen = [0] * len(CIFAR10_CLASSES)
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            label = int(info['gt_label'])
            folder = osp.join(root, split, CIFAR10_CLASSES[label])
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(info['img']).save(  # RGB uint8 (32, 32, 3)
                osp.join(folder, f'{seen[label]:04d}.png'))
            seen[label] += 1
        written.append(f'{split} {sum(seen)}')
    if not written:
        return f'data: CIFAR-10 ImageFolder in {root} (complete, reused)'
    return (f'data: CIFAR-10 python archive -> ImageFolder in {root} '
            f'({", ".join(written)} images written as PNG)')
