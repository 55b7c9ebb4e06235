# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, List, Optional

from mmengine.logging import MMLogger
from mmpretrain.datasets.custom import find_folders, get_samples

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import DATASETS
from .image_folder import ImageFolder
from .imagenet_variants import IMAGENET_WNIDS, VARIANTS, WNID_TO_INDEX


@DATASETS.register_module()
class ImageNetVariant(ImageFolder):
    """ImageNet-1k val or a shifted test set of it, labelled with
    ImageNet-1k class indices (0-999) whatever folders are present.

    Layouts (``<data_root>/<data_prefix>/<class folder>/<image>``):

    - ``'imagenet'`` (ImageNet-1k val), ``'imagenet-sketch'``: folders
      named by wnid, any of the 1000.
    - ``'imagenet-a'``, ``'imagenet-r'``: folders named by wnid, only the
      200 classes of the set.
    - ``'imagenet-v2'``: folders ``0`` .. ``999`` named by the class index.

    A folder's label comes from its name, not from its rank among the
    folders present, so a set missing some classes keeps correct labels (a
    plain ``ImageFolder`` would number ImageNet-V2's ``0, 1, 10, 100, ...``
    in string order). With ``ann_file`` (``<path> <label>`` lines, e.g.
    mmpretrain's ``meta/val.txt``), the labels are read as ImageNet-1k
    indices and checked against the set's classes.

    Scoring ImageNet-A/-R on their 200 classes is the metric's job
    (:class:`mmbeitv2.evaluation.SubsetAccuracy`); the labels here stay in
    the 1000-class space, so one model and one data preprocessor serve
    every set.

    Args:
        variant (str): ``'imagenet'``, ``'imagenet-a'``, ``'imagenet-r'``,
            ``'imagenet-v2'`` or ``'imagenet-sketch'``.
        **kwargs: The arguments of :class:`mmbeitv2.datasets.ImageFolder`
            (``data_root``, ``data_prefix``, ``ann_file``, ``pipeline``,
            ...); ``with_label`` must stay True.
    """
    METAINFO = {'classes': IMAGENET_WNIDS}

    def __init__(self, variant: str, **kwargs) -> None:
        if variant not in VARIANTS:
            raise UserInputError(
                f"unknown ImageNet variant '{variant}' in ImageNetVariant; "
                f'use one of {", ".join(VARIANTS)}')
        if not kwargs.get('with_label', True):
            raise UserInputError(
                'ImageNetVariant is a labelled test set; drop with_label')
        self.variant = variant
        self.folder_naming, allowed = VARIANTS[variant]
        self.allowed_classes = frozenset(allowed)
        super().__init__(**kwargs)

    def folder_label(self, folder: str) -> Optional[int]:
        """The ImageNet-1k class index of a class folder of this set.

        Args:
            folder (str): The folder name, e.g. ``'n01498041'`` or ``'17'``.

        Returns:
            int, optional: The index, or None if the set cannot hold it.
        """
        if self.folder_naming == 'index':
            label = int(folder) if folder.isdigit() else None
        else:
            label = WNID_TO_INDEX.get(folder)
        return label if label in self.allowed_classes else None

    def _folder_to_idx(self) -> Dict[str, int]:
        folders, _ = find_folders(self.img_prefix)
        folder_to_idx = {f: self.folder_label(f) for f in folders}
        bad = sorted(f for f, label in folder_to_idx.items() if label is None)
        if bad:
            kind = ('class indices 0-999' if self.folder_naming == 'index'
                    else f'wnids of the {len(self.allowed_classes)} '
                    f'{self.variant} classes')
            raise UserInputError(
                f'{self.img_prefix}: {len(bad)} folder(s) that are not '
                f'{kind}: {", ".join(bad[:5])}; lay the set out as '
                f'<class folder>/<image> (docs/robustness.md)')
        return folder_to_idx

    def _find_samples(self) -> list:
        """Walk the class folders; labels from the folder names."""
        folder_to_idx = self._folder_to_idx()
        samples, empty = get_samples(
            self.img_prefix, folder_to_idx, is_valid_file=self.is_valid_file)
        self.folder_to_idx = folder_to_idx
        if empty:
            MMLogger.get_current_instance().warning(
                f'{self.img_prefix}: no image in folder(s) '
                f'{", ".join(sorted(empty)[:5])}')
        return samples

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.ann_file:
            bad = [
                d['img_path'] for d in data_list
                if d['gt_label'] not in self.allowed_classes
            ]
            if bad:
                raise UserInputError(
                    f'{self.ann_file}: {len(bad)} label(s) outside the '
                    f'{self.variant} classes (first: {bad[0]}); labels '
                    'must be ImageNet-1k class indices')
        return data_list
