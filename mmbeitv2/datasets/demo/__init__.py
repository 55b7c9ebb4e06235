# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The data sets of the CPU demo (tools/run_demo.py), not of the paper's
configs: the embedded CIFAR-10 subset, the CIFAR-10 python archive as an
ImageFolder tree, and the synthetic shapes10 set. Nothing here is
registered; they write ImageFolder trees that the library's data sets
read."""
from .cifar10_folder import cifar10_split, cifar10_to_imagefolder
from .embedded_data import (CIFAR10_CLASSES, CIFAR10_SUBSET,
                            CIFAR10_SUBSET_SIZES, count_images,
                            extract_cifar10_subset)
from .shapes10 import (SHAPES10_CLASSES, image_grid, list_classes,
                       render_image, write_demo_dataset)

__all__ = [
    'CIFAR10_CLASSES', 'CIFAR10_SUBSET', 'CIFAR10_SUBSET_SIZES',
    'SHAPES10_CLASSES', 'cifar10_split', 'cifar10_to_imagefolder',
    'count_images', 'extract_cifar10_subset', 'image_grid', 'list_classes',
    'render_image', 'write_demo_dataset'
]
