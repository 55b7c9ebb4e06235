# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Make the demo's embedded CIFAR-10 subset (the first N train / M test
images of every class) as a reproducible ``.tar.gz``; the command line is
``tools/dataset_converters/make_cifar10_subset.py``.

The source is CIFAR-10 as an ImageFolder of JPEGs
(``src/{train,test}/<class>/NNNN.jpg``: the files are copied byte for
byte, as for the shipped archive) or the official python archive
(``cifar-10-python.tar.gz`` or its unpacked ``cifar-10-batches-py/``:
images are encoded as JPEG, quality 90). The tar is written with sorted
names, zero owners and a fixed mtime, so the same input gives the same
bytes. See ``mmbeitv2/datasets/demo/embedded/README.md``.
"""
import gzip
import io
import os
import os.path as osp
import tarfile
from typing import Iterator, List, Tuple

from mmbeitv2.datasets.demo.cifar10_folder import cifar10_split
from mmbeitv2.datasets.demo.embedded_data import CIFAR10_CLASSES

MTIME = 1577836800  # 2020-01-01


def _from_folder(src: str, split: str,
                 n: int) -> Iterator[Tuple[str, bytes]]:
    for cls in CIFAR10_CLASSES:
        files = sorted(os.listdir(osp.join(src, split, cls)))[:n]
        if len(files) < n:
            raise SystemExit(f'{src}/{split}/{cls} has {len(files)} images, '
                             f'fewer than {n}')
        for name in files:
            with open(osp.join(src, split, cls, name), 'rb') as f:
                yield f'{split}/{cls}/{name}', f.read()


def _from_python(src: str, split: str,
                 n: int) -> Iterator[Tuple[str, bytes]]:
    """The first ``n`` images per class of the python archive, read through
    mmpretrain's ``CIFAR10`` (``cifar10_split``), as JPEG (quality 90)."""
    from PIL import Image
    root = src if osp.isdir(src) else osp.dirname(osp.abspath(src))
    # download=True: an archive already there (md5-checked) is unpacked,
    # not fetched again
    dataset = cifar10_split(root, split, download=True)
    per_class: List[List[bytes]] = [[] for _ in CIFAR10_CLASSES]
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        images = per_class[int(info['gt_label'])]
        if len(images) < n:
            buf = io.BytesIO()
            Image.fromarray(info['img']).save(buf, format='JPEG', quality=90)
            images.append(buf.getvalue())
    for cls, images in zip(CIFAR10_CLASSES, per_class):
        for i, data in enumerate(images):
            yield f'{split}/{cls}/{i:04d}.jpg', data


def make_cifar10_subset(src: str, out: str, num_train: int = 500,
                        num_test: int = 100) -> int:
    """Write the first ``num_train`` train and ``num_test`` test images of
    every class of ``src`` to the archive ``out``, byte-reproducibly.

    Args:
        src (str): CIFAR-10 as an ImageFolder of JPEGs, or the official
            python archive (the ``.tar.gz`` or its unpacked folder).
        out (str): The ``.tar.gz`` to write.
        num_train (int): Train images per class. Defaults to 500.
        num_test (int): Test images per class. Defaults to 100.

    Returns:
        int: The number of images written.
    """
    read = _from_folder if osp.isdir(osp.join(src, 'train')) \
        else _from_python
    files = sorted([
        *read(src, 'train', num_train),
        *read(src, 'test', num_test)
    ])
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({osp.dirname(p) for p, _ in files} |
                      {osp.dirname(osp.dirname(p)) for p, _ in files} |
                      {''})
        for d in dirs:
            info = tarfile.TarInfo(osp.join('cifar10_subset', d).rstrip('/'))
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tar.addfile(info)
        for path, data in files:
            info = tarfile.TarInfo(osp.join('cifar10_subset', path))
            info.size, info.mode, info.mtime = len(data), 0o644, MTIME
            tar.addfile(info, io.BytesIO(data))
    with open(out, 'wb') as f:
        with gzip.GzipFile(fileobj=f, mode='wb', compresslevel=9,
                           mtime=0, filename='') as gz:
            gz.write(raw.getvalue())
    return len(files)
