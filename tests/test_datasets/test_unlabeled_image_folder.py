# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Own data for pretraining and VQ-KD: every image under a folder, flat or
nested, without labels, through the paper configs' dataset field."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

from mmbeitv2.datasets import UnlabeledImageFolder
from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import DATASETS
from mmbeitv2.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _png(path: str) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)
    return path


def test_flat_and_nested_folders(tmp_path):
    flat = [_png(str(tmp_path / 'flat' / f'{i}.png')) for i in range(3)]
    nested = [
        _png(str(tmp_path / 'nested' / 'a' / 'x.png')),
        _png(str(tmp_path / 'nested' / 'a' / 'deeper' / 'y.png')),
        _png(str(tmp_path / 'nested' / 'z.png')),
    ]
    (tmp_path / 'nested' / 'notes.txt').write_text('not an image')
    for root, files in (('flat', flat), ('nested', nested)):
        ds = UnlabeledImageFolder(data_root=str(tmp_path / root),
                                  pipeline=[])
        got = sorted(ds.get_data_info(i)['img_path'] for i in range(len(ds)))
        assert got == sorted(files)
        assert 'gt_label' not in ds.get_data_info(0)


def test_split_subfolder_if_present(tmp_path):
    _png(str(tmp_path / 'train' / 'a.png'))
    _png(str(tmp_path / 'val' / 'b.png'))
    ds = UnlabeledImageFolder(data_root=str(tmp_path), split='val',
                              pipeline=[])
    assert len(ds) == 1 and ds.get_data_info(0)['img_path'].endswith('b.png')
    # no 'test' folder: every image under data_root
    ds = UnlabeledImageFolder(data_root=str(tmp_path), split='test',
                              pipeline=[])
    assert len(ds) == 2
    (tmp_path / 'empty').mkdir()
    with pytest.raises(UserInputError, match='no images found'):
        UnlabeledImageFolder(data_root=str(tmp_path / 'empty'), pipeline=[])
    with pytest.raises(UserInputError, match='dataset folder not found'):
        UnlabeledImageFolder(data_root=str(tmp_path / 'missing'),
                             pipeline=[])


@pytest.mark.parametrize('config', [
    'beitv2/beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py',
    'vqkd/vqkd_vit-base-p16_3x768x12-clip-b16_8xb64-100e_in1k.py'
])
def test_paper_configs_take_own_folder_from_the_command_line(
        tmp_path, config):
    """What ``--cfg-options train_dataloader.dataset.type=
    UnlabeledImageFolder train_dataloader.dataset.data_root=DIR`` builds
    from the paper configs (their split='train' included)."""
    files = [_png(str(tmp_path / 'photos' / f'{i}.png')) for i in range(2)]
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    cfg.merge_from_dict({
        'train_dataloader.dataset.type': 'UnlabeledImageFolder',
        'train_dataloader.dataset.data_root': str(tmp_path / 'photos'),
    })
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert sorted(ds.get_data_info(i)['img_path']
                  for i in range(len(ds))) == sorted(files)
    sample = ds[0]  # the paper pipeline runs on it (no label needed)
    assert 'inputs' in sample
