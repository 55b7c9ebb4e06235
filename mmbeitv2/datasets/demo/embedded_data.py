# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The demo's embedded real photos: a class-balanced CIFAR-10 subset
shipped inside the package (``mmbeitv2/datasets/demo/embedded/``, source and
citation in its README), unpacked to an ImageFolder tree on first use."""
import os
import os.path as osp
import shutil
import tarfile
import tempfile
from typing import Dict

from mmpretrain.datasets.categories import CIFAR10_CATEGORIES

EMBEDDED_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'embedded')
CIFAR10_SUBSET = osp.join(EMBEDDED_DIR, 'cifar10_subset.tar.gz')
# mmpretrain's CIFAR-10 class names, in the archive's label order
CIFAR10_CLASSES = CIFAR10_CATEGORIES
# images per class in each split of the archive
CIFAR10_SUBSET_SIZES = dict(train=500, test=100)


def count_images(root: str) -> Dict[str, Dict[str, int]]:
    """``{split: {class: number of files}}`` of an ImageFolder tree."""
    counts: Dict[str, Dict[str, int]] = {}
    for split in sorted(os.listdir(root)):
        split_dir = osp.join(root, split)
        if not osp.isdir(split_dir):
            continue
        counts[split] = {
            c: len(os.listdir(osp.join(split_dir, c)))
            for c in sorted(os.listdir(split_dir))
            if osp.isdir(osp.join(split_dir, c))
        }
    return counts


def _is_complete(root: str) -> bool:
    if not osp.isdir(root):
        return False
    counts = count_images(root)
    return all(
        counts.get(split) == {c: n for c in CIFAR10_CLASSES}
        for split, n in CIFAR10_SUBSET_SIZES.items())


def extract_cifar10_subset(dst: str, archive: str = CIFAR10_SUBSET) -> str:
    """Unpack the embedded CIFAR-10 subset under ``dst`` (no network).

    Idempotent: a complete tree is reused; an incomplete one (e.g. an
    interrupted unpack) is replaced. The unpack goes to a temporary folder
    first and is renamed into place.

    Args:
        dst (str): Parent folder; the tree is ``dst/cifar10_subset``.
        archive (str): The archive. Defaults to the embedded one.

    Returns:
        str: The ImageFolder root, ``dst/cifar10_subset`` with
        ``{train,test}/<class>/NNNN.jpg``.
    """
    root = osp.join(dst, 'cifar10_subset')
    if _is_complete(root):
        return root
    if not osp.isfile(archive):
        raise FileNotFoundError(
            f'{archive} is missing: the embedded demo data ships with the '
            'repository; restore it with git checkout -- ' + archive)
    os.makedirs(dst, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.cifar10_subset.', dir=dst)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter='data')
        if osp.isdir(root):
            shutil.rmtree(root)
        os.replace(osp.join(tmp, 'cifar10_subset'), root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not _is_complete(root):
        raise RuntimeError(f'{archive} did not unpack to 10 classes x '
                           f'{CIFAR10_SUBSET_SIZES} images in {root}')
    return root
