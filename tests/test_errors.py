# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Bad input ends in one line that names the thing and what to do."""
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from PIL import Image

from mmbeitv2.datasets import ImageFolder
from mmbeitv2.datasets.transforms import (CheckedLoadImageFromFile,
                                          CorruptImageError)
from mmbeitv2.cli import describe_user_error, run_cli
from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(
        f'mmbeitv2_tools_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith('error: ')
    return lines[0]


def _write_images(folder: str, n: int = 2) -> list:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = osp.join(folder, f'{i}.png')
        Image.fromarray(rng.integers(0, 256, (8, 8, 3),
                                     dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_missing_config_path(tmp_path, capsys):
    missing = str(tmp_path / 'no_such_config.py')
    for tool, argv in [('train', [missing]), ('test', [missing, 'x.pth'])]:
        main = _tool(tool).main
        assert run_cli(lambda: main(argv)) == 2
        line = _one_line(capsys)
        assert f'config file not found: {missing}' in line


def test_unknown_registry_type_names_the_scopes():
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        with pytest.raises(KeyError) as err:
            MODELS.build(dict(type='NoSuchBackbone'))
    line = describe_user_error(err.value)
    assert "unknown type 'NoSuchBackbone'" in line
    assert 'mmbeitv2 -> mmpretrain -> mmengine' in line
    assert '\n' not in line


def test_unknown_type_through_train_tool(tmp_path, capsys):
    config = tmp_path / 'bad_type.py'
    config.write_text("default_scope = 'mmbeitv2'\n"
                      "model = dict(type='BEiTv3DoesNotExist')\n"
                      f"work_dir = {str(tmp_path / 'work')!r}\n")
    main = _tool('train').main
    assert run_cli(lambda: main([str(config)])) == 2
    line = _one_line(capsys)
    assert "'BEiTv3DoesNotExist'" in line and 'mmbeitv2 -> mmpretrain' in line


def test_not_a_checkpoint_through_test_tool(tmp_path, capsys):
    images = str(tmp_path / 'images')
    _write_images(osp.join(images, 'a'))
    config = tmp_path / 'tiny.py'
    config.write_text(f'''
default_scope = 'mmbeitv2'
model = dict(type='ImageClassifier',
             backbone=dict(type='mmpretrain.ResNet', depth=18,
                           base_channels=8, stem_channels=8),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=1, in_channels=64))
test_dataloader = dict(batch_size=2, num_workers=0,
    dataset=dict(type='ImageFolder', data_root={images!r},
                 pipeline=[dict(type='CheckedLoadImageFromFile'),
                           dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='Accuracy')
test_cfg = dict()
''')
    junk = tmp_path / 'notes.pth'
    junk.write_text('this is not a checkpoint\n')
    main = _tool('test').main
    argv = [str(config), str(junk), '--work-dir', str(tmp_path / 'w')]
    assert run_cli(lambda: main(argv)) == 2
    line = _one_line(capsys)
    assert f'{junk} is not a readable PyTorch checkpoint' in line


def test_dataset_folder_without_images(tmp_path):
    (tmp_path / 'empty' / 'cls').mkdir(parents=True)
    (tmp_path / 'empty' / 'cls' / 'readme.txt').write_text('no images')
    with pytest.raises(UserInputError, match='no images found') as err:
        ImageFolder(data_root=str(tmp_path / 'empty'), pipeline=[])
    assert str(tmp_path / 'empty') in str(err.value)
    with pytest.raises(UserInputError, match='dataset folder not found'):
        ImageFolder(data_root=str(tmp_path / 'missing'), pipeline=[])
    # mmpretrain's CustomDataset error gets the same one line in the tools.
    exc = RuntimeError("Found 0 files in subfolders of: {'img_path': "
                       "'/data/x/'}. Supported extensions are: .jpg")
    assert describe_user_error(exc).startswith(
        'no images found in dataset folder /data/x/')


@pytest.fixture
def broken_images(tmp_path) -> dict:
    folder = str(tmp_path / 'imgs' / 'a')
    good_png, good_jpg_src = _write_images(folder, 2)
    jpg = osp.join(folder, 'good.jpg')
    Image.open(good_jpg_src).resize((64, 64)).save(jpg, quality=90)
    with open(jpg, 'rb') as f:
        jpg_bytes = f.read()
    paths = dict(good_png=good_png, good_jpg=jpg)
    for name, data in [('cut.jpg', jpg_bytes[:len(jpg_bytes) // 2]),
                       ('trailer.jpg', jpg_bytes + b'APPENDED'),
                       ('garbage.png', b'\x89PNG\r\n\x1a\n' + b'x' * 50),
                       ('empty.jpg', b'')]:
        path = osp.join(folder, name)
        with open(path, 'wb') as f:
            f.write(data)
        paths[name] = path
    os.remove(good_jpg_src)
    return paths


def test_corrupt_or_truncated_image_names_the_file(broken_images):
    load = CheckedLoadImageFromFile()
    for key in ('good_png', 'good_jpg', 'trailer.jpg'):
        out = load(dict(img_path=broken_images[key]))
        assert out['img'].ndim == 3 and out['img'].dtype == np.uint8
    for key, why in [('cut.jpg', 'truncated'), ('garbage.png', 'truncated'),
                     ('empty.jpg', 'empty file')]:
        with pytest.raises(CorruptImageError) as err:
            load(dict(img_path=broken_images[key]))
        message = str(err.value)
        assert broken_images[key] in message and why in message
        assert 'skip_corrupt=True' in message and '\n' not in message


def test_skip_and_count_corrupt_images(broken_images):
    load = CheckedLoadImageFromFile(skip_corrupt=True)
    before = CheckedLoadImageFromFile.num_skipped
    assert load(dict(img_path=broken_images['cut.jpg'])) is None
    assert load(dict(img_path=broken_images['empty.jpg'])) is None
    assert load(dict(img_path=broken_images['good_png'])) is not None
    assert CheckedLoadImageFromFile.num_skipped == before + 2
    # In a training dataset a skipped image is replaced by another sample.
    root = osp.dirname(osp.dirname(broken_images['good_png']))
    dataset = ImageFolder(
        data_root=root,
        pipeline=[dict(type='CheckedLoadImageFromFile', skip_corrupt=True)])
    cut = next(i for i in range(len(dataset))
               if dataset.get_data_info(i)['img_path'].endswith('cut.jpg'))
    sample = dataset[cut]
    assert not sample['img_path'].endswith(('cut.jpg', 'empty.jpg',
                                            'garbage.png'))
