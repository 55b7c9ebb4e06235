# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Class indices of the ImageNet-1k test-set variants used for robustness.

ImageNet-A and ImageNet-R hold 200 of the 1000 ImageNet-1k classes. A
1000-way classifier is scored on them as the official BEiT v2 code does
(microsoft/unilm ``beit2/run_class_finetuning.py --robust_test``, which
keeps the rows ``imagenet_a_mask`` / ``imagenet_r_mask`` of
``beit2/imagenet_a_r_indices.py`` of the classifier): only the scores of
the 200 classes, in ImageNet-1k index order, take part in the top-k, and
the label is the position of the true class among them (the official
``ImageFolder`` numbers the 200 sorted wnid folders ``0..199``, which is
the same order because the ImageNet-1k class order is the sorted wnids).

``IMAGENET_A_INDICES`` and ``IMAGENET_R_INDICES`` are derived from the
wnid lists of :mod:`mmbeitv2.datasets.imagenet_wnids` (sources cited
there); ``tests/test_datasets/test_imagenet_variants.py`` checks them.
"""
from typing import Dict, List, Sequence, Tuple

from mmbeitv2.errors import UserInputError
from .imagenet_wnids import IMAGENET_A_WNIDS, IMAGENET_R_WNIDS, IMAGENET_WNIDS

__all__ = [
    'IMAGENET_WNIDS', 'IMAGENET_A_INDICES', 'IMAGENET_R_INDICES',
    'WNID_TO_INDEX', 'VARIANTS', 'wnids_to_indices', 'get_subset_indices'
]

#: wnid -> ImageNet-1k class index (0-999).
WNID_TO_INDEX: Dict[str, int] = {w: i for i, w in enumerate(IMAGENET_WNIDS)}


def wnids_to_indices(wnids: Sequence[str]) -> List[int]:
    """Sorted ImageNet-1k class indices of ``wnids``.

    Args:
        wnids (Sequence[str]): ImageNet-1k wnids, e.g. ``'n01498041'``.

    Returns:
        List[int]: Their class indices (0-999), sorted.
    """
    unknown = [w for w in wnids if w not in WNID_TO_INDEX]
    if unknown:
        raise ValueError(f'not ImageNet-1k wnids: {unknown[:5]}')
    return sorted(WNID_TO_INDEX[w] for w in wnids)


IMAGENET_A_INDICES: List[int] = wnids_to_indices(IMAGENET_A_WNIDS)
IMAGENET_R_INDICES: List[int] = wnids_to_indices(IMAGENET_R_WNIDS)

#: Test sets: name -> (folder naming, ImageNet-1k classes it may hold).
#: ``'wnid'`` folders are named by wnid (``n01440764``); ``'index'``
#: folders by the ImageNet-1k class index (``0`` .. ``999``, ImageNet-V2).
VARIANTS: Dict[str, Tuple[str, Tuple[int, ...]]] = {
    'imagenet': ('wnid', tuple(range(1000))),
    'imagenet-a': ('wnid', tuple(IMAGENET_A_INDICES)),
    'imagenet-r': ('wnid', tuple(IMAGENET_R_INDICES)),
    'imagenet-v2': ('index', tuple(range(1000))),
    'imagenet-sketch': ('wnid', tuple(range(1000))),
}


def get_subset_indices(name: str) -> List[int]:
    """The ImageNet-1k class indices of a test set, sorted.

    Args:
        name (str): A key of :data:`VARIANTS` (``'imagenet-a'``, ...).

    Returns:
        List[int]: 200 indices for ImageNet-A/-R, all 1000 otherwise.
    """
    if name not in VARIANTS:
        raise UserInputError(f"unknown ImageNet variant '{name}'; use one "
                             f'of {", ".join(VARIANTS)}')
    return list(VARIANTS[name][1])
