# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Make the demo's embedded CIFAR-10 subset (the first N train / M test
images of every class) as a reproducible ``.tar.gz``.

    python tools/dataset_converters/make_cifar10_subset.py SRC OUT.tar.gz \
        [--train 500] [--test 100]

SRC is CIFAR-10 as an ImageFolder of JPEGs (``SRC/{train,test}/<class>/
NNNN.jpg``: the files are copied byte for byte, as for the shipped archive)
or the official python archive (``cifar-10-python.tar.gz`` or its unpacked
``cifar-10-batches-py/``: images are encoded as JPEG, quality 90). The tar
is written with sorted names, zero owners and a fixed mtime, so the same
input gives the same bytes. See ``mmbeitv2/datasets/demo/embedded/README.md``;
the archive is written by ``mmbeitv2.demo.make_cifar10_subset``.
"""
import argparse
import os.path as osp

from mmbeitv2.demo.cifar10_subset import make_cifar10_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='CIFAR-10 ImageFolder or python archive')
    parser.add_argument('out', help='output .tar.gz')
    parser.add_argument('--train', type=int, default=500,
                        help='train images per class')
    parser.add_argument('--test', type=int, default=100,
                        help='test images per class')
    args = parser.parse_args()
    num = make_cifar10_subset(args.src, args.out, args.train, args.test)
    print(f'{args.out}: {num} images '
          f'({args.train} train / {args.test} test per class), '
          f'{osp.getsize(args.out) / 1e6:.2f} MB')


if __name__ == '__main__':
    main()
