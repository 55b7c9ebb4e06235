# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os.path as osp
from typing import List

from mmpretrain.datasets import CustomDataset

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import DATASETS


@DATASETS.register_module()
class ImageFolder(CustomDataset):
    """mmpretrain's ``CustomDataset`` with one-line errors for a missing or
    empty image folder.

    Takes the same arguments as :class:`mmpretrain.datasets.CustomDataset`
    (``data_root``, ``data_prefix``, ``ann_file``, ``with_label``,
    ``extensions``, ``pipeline``, ...). Without ``ann_file`` it reads the
    ImageFolder layout ``<root>/<class>/<image>`` (``with_label=True``) or all
    images under ``<root>`` (``with_label=False``). Pair it with
    ``CheckedLoadImageFromFile`` to name corrupt image files.
    """

    def load_data_list(self) -> List[dict]:
        """Load image paths (and labels); raise :class:`UserInputError` when
        the folder is missing or holds no image."""
        folder = self.img_prefix
        if not self.ann_file and '://' not in folder and not osp.isdir(
                folder):
            raise UserInputError(
                f'dataset folder not found: {folder}; set data_root / '
                'data_prefix of the dataset (e.g. with --cfg-options)')
        try:
            data_list = super().load_data_list()
        except RuntimeError as exc:
            if 'Found 0 files' not in str(exc):
                raise
            data_list = []
        if not data_list:
            layout = ('in class subfolders <class>/<image>' if
                      self.with_label and not self.ann_file else 'listed')
            raise UserInputError(
                f'no images found in dataset folder {folder} ({layout}, '
                f'extensions {",".join(self.extensions)}); put images there '
                'or point data_root / data_prefix at the right folder')
        return data_list
