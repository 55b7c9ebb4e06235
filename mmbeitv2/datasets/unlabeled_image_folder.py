# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os.path as osp
from typing import Union

from mmengine.logging import print_log

from mmbeitv2.registry import DATASETS
from .image_folder import ImageFolder


@DATASETS.register_module()
class UnlabeledImageFolder(ImageFolder):
    """Every image under a folder, flat or nested, without labels or class
    list: a drop-in for the ImageNet dataset of the VQ-KD and BEiT v2
    pretraining configs, for one's own images.

    Switch a config to it from the command line, e.g.::

        --cfg-options train_dataloader.dataset.type=UnlabeledImageFolder \\
            train_dataloader.dataset.data_root=DIR

    (for VQ-KD also ``val_dataloader.dataset.*``, or ``--no-validate``).
    The ``split`` the ImageNet configs pass is accepted: when
    ``data_root/<split>`` is a folder it is read, otherwise all of
    ``data_root`` (one log line says so). Images are found recursively
    (mmpretrain's ``CustomDataset`` with ``with_label=False``).

    Args:
        data_root (str): The image folder. Defaults to ''.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``''``; used as
            a subfolder only where it exists. Defaults to ''.
        data_prefix (str | dict): As ``CustomDataset``; set, it wins over
            ``split``. Defaults to ''.
        **kwargs: The other arguments of :class:`ImageFolder`
            (``extensions``, ``pipeline``, ...). ``with_label`` and
            ``ann_file`` are not taken: there are no labels.
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = '',
                 data_prefix: Union[str, dict] = '',
                 **kwargs) -> None:
        for key in ('with_label', 'ann_file', 'classes', 'metainfo'):
            kwargs.pop(key, None)
        if not data_prefix and split:
            if osp.isdir(osp.join(data_root, split)):
                data_prefix = split
            else:
                print_log(
                    f'UnlabeledImageFolder: no {split!r} subfolder in '
                    f'{data_root}; using every image under it for the '
                    f'{split} split.',
                    logger='current')
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            with_label=False,
            **kwargs)
