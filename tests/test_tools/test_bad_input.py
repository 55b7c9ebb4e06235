# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Bad input to ``tools/train.py`` / ``tools/test.py`` ends in one
``error:`` line naming the file or value and the fix, never a traceback:
broken tokenizer files, a 0-byte image, nonsense config values, the
ImageNet dataset on one's own folder, and checkpoints the allow-list
refuses (on every loading path)."""
import argparse
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_run_utils import REPO, write_config

from mmbeitv2.cli import run_cli

PRETRAIN_TINY = osp.join(REPO, 'configs', 'beitv2',
                         'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py')
PRETRAIN_PAPER = osp.join(REPO, 'configs', 'beitv2',
                          'beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py')


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(
        f'mmbeitv2_tools_{name}_bad_input',
        osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert 'Traceback' not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith('error: ')
    return lines[0]


def _train_error(capsys, argv: list) -> str:
    main = _tool('train').main
    assert run_cli(lambda: main(argv)) == 2
    return _one_error_line(capsys)


def _images(folder: str, n: int = 2, size: int = 32) -> list:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = osp.join(folder, f'{i}.png')
        Image.fromarray(rng.integers(0, 256, (size, size, 3),
                                     dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _tiny_tokenizer(path: str, num_embed: int = 1024, meta=None) -> str:
    """A trained-looking tokenizer file for the tiny pretraining config."""
    from mmengine.config import Config

    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(PRETRAIN_TINY).model.target_generator
    cfg.init_cfg = None
    cfg.quantizer.num_embed = num_embed
    model = MODELS.build(cfg)
    model.quantize.embedding.initted.fill_(1.)
    ckpt = dict(state_dict=model.state_dict())
    if meta is not None:
        ckpt['meta'] = meta
    torch.save(ckpt, path)
    return path


def _pretrain_argv(tmp_path, tokenizer: str, *options: str) -> list:
    data = str(tmp_path / 'data')
    if not osp.isdir(data):
        _images(osp.join(data, 'train', 'a'))
    return [
        PRETRAIN_TINY, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={data}',
        'train_dataloader.num_workers=0', 'train_dataloader.batch_size=2',
        f'model.target_generator.init_cfg.checkpoint={tokenizer}', *options
    ]


def test_truncated_tokenizer_checkpoint(tmp_path, capsys):
    path = _tiny_tokenizer(str(tmp_path / 'tok.pth'))
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    line = _train_error(capsys, _pretrain_argv(tmp_path, path))
    assert f'tokenizer {path} is not a readable PyTorch checkpoint' in line
    assert 're-download' in line


def test_tokenizer_of_another_codebook_size(tmp_path, capsys):
    path = _tiny_tokenizer(str(tmp_path / 'tok512.pth'), num_embed=512)
    line = _train_error(capsys, _pretrain_argv(tmp_path, path))
    assert f'tokenizer checkpoint {path} does not fit' in line
    assert 'its codebook is 512 x 32' in line
    assert 'quantizer.num_embed' in line and "head's num_embed" in line


def test_tokenizer_with_refused_objects(tmp_path, capsys):
    path = _tiny_tokenizer(
        str(tmp_path / 'tok_ns.pth'), meta=argparse.Namespace(lr=1))
    line = _train_error(capsys, _pretrain_argv(tmp_path, path))
    assert 'refuses to unpickle (argparse.Namespace)' in line
    assert f'--trust-checkpoint {path}' in line


def test_missing_tokenizer_checkpoint(tmp_path, capsys):
    path = str(tmp_path / 'nope.pth')
    line = _train_error(capsys, _pretrain_argv(tmp_path, path))
    assert f'tokenizer checkpoint not found: {path}' in line
    assert 'model.target_generator.init_cfg.checkpoint' in line


@pytest.mark.parametrize('option', [
    'model.target_generator.quantizer.num_embed=-5',
    'model.target_generator.quantizer.decay=2.0'
])
def test_nonsense_quantizer_value(tmp_path, capsys, option):
    tokenizer = str(tmp_path / 'unused.pth')
    line = _train_error(capsys, _pretrain_argv(tmp_path, tokenizer, option))
    key, value = option.split('=')
    key = key.rsplit('.', 1)[1]
    assert f'quantizer.{key}={value}' in line and 'must be' in line


def test_warmup_that_rounds_to_no_iteration(tmp_path, capsys):
    """An epoch-based warmup converted to iterations on a 1-iteration
    epoch (2 images, batch 2): 0.25 epochs -> begin=0, end=0."""
    config = tmp_path / 'short_epoch.py'
    config.write_text(
        f"_base_ = [{PRETRAIN_TINY!r}]\n"
        "param_scheduler = [dict(type='LinearLR', start_factor=1e-3, "
        "by_epoch=True, begin=0, end=0.25, convert_to_iter_based=True)]\n"
        "train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', "
        "max_epochs=1)\n")
    tokenizer = _tiny_tokenizer(str(tmp_path / 'tok.pth'))
    argv = _pretrain_argv(tmp_path, tokenizer)
    argv[0] = str(config)
    line = _train_error(capsys, argv)
    assert 'param_scheduler LinearLR spans no iteration' in line
    assert '1 iterations per epoch round to begin=0, end=0' in line
    assert 'by_epoch=False' in line


def test_zero_byte_image(tmp_path, capsys):
    tokenizer = _tiny_tokenizer(str(tmp_path / 'tok.pth'))
    folder = str(tmp_path / 'data' / 'train' / 'a')
    _images(folder, n=1)
    empty = osp.join(folder, 'empty.png')
    open(empty, 'wb').close()
    line = _train_error(capsys, _pretrain_argv(tmp_path, tokenizer))
    assert f'image file {empty} is empty (0 bytes)' in line
    assert 'skip_corrupt=True' in line


def test_imagenet_dataset_on_own_folder(tmp_path, capsys):
    """The paper config pointed at a folder of two image folders."""
    data = str(tmp_path / 'mine')
    _images(osp.join(data, 'train', 'cats'), n=1)
    _images(osp.join(data, 'train', 'dogs'), n=1)
    line = _train_error(capsys, [
        PRETRAIN_PAPER, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={data}',
        'train_dataloader.num_workers=0',
        'model.target_generator.init_cfg=None'
    ])
    folder = osp.join(data, 'train')
    assert f'dataset folder {folder} has 2 class subfolders' in line
    assert 'expects 1000 classes' in line
    assert 'train_dataloader.dataset.type=UnlabeledImageFolder' in line


@pytest.fixture
def refused_checkpoint(tmp_path, monkeypatch) -> tuple:
    """The tiny classifier's weights saved with an object the allow-list
    refuses in their meta."""
    tmp = str(tmp_path)
    config = write_config(tmp)
    monkeypatch.syspath_prepend(tmp)  # the config's sleep_hook module
    path = str(tmp_path / 'refused.pth')
    from mmengine.config import Config

    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(Config.fromfile(config).model)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(args=argparse.Namespace(lr=1))), path)
    return config, path


def test_refused_checkpoint_on_resume(refused_checkpoint, tmp_path,
                                      capsys):
    config, path = refused_checkpoint
    line = _train_error(capsys, [
        config, '--work-dir',
        str(tmp_path / 'w'), '--resume', path
    ])
    assert 'not a readable' not in line
    assert f'checkpoint {path} holds objects that safe loading refuses ' \
        'to unpickle (argparse.Namespace)' in line
    assert f'--trust-checkpoint {path}' in line and 'Checkpoint trust' in line


def test_refused_checkpoint_in_test_tool(refused_checkpoint, tmp_path,
                                         capsys):
    config, path = refused_checkpoint
    main = _tool('test').main
    argv = [config, path, '--work-dir', str(tmp_path / 'w')]
    assert run_cli(lambda: main(argv)) == 2
    line = _one_error_line(capsys)
    assert 'not a readable' not in line
    assert 'refuses to unpickle (argparse.Namespace)' in line
    assert 'tools/test.py: --trust-checkpoint' in line


@pytest.fixture(scope='module')
def tokenizer_training_checkpoint(tmp_path_factory) -> str:
    """``iter_4.pth`` of a tiny VQ-KD training run: a tokenizer checkpoint
    with its optimizer state, as ``tools/train.py`` writes it."""
    from tiny_run_utils import write_vqkd_config
    tmp = str(tmp_path_factory.mktemp('vqkd_run'))
    config = write_vqkd_config(tmp, max_iters=4)
    work_dir = osp.join(tmp, 'work')
    import sys
    sys.path.insert(0, tmp)  # the config's custom_imports (sleep_hook)
    try:
        assert run_cli(lambda: _tool('train').main(
            [config, '--work-dir', work_dir, '--cfg-options',
             'default_hooks.checkpoint.interval=4'])) == 0
    finally:
        sys.path.remove(tmp)
    return osp.join(work_dir, 'iter_4.pth')


def test_resume_from_a_tokenizer_checkpoint(tokenizer_training_checkpoint,
                                            tmp_path, capsys):
    """mmengine loads the weights non-strictly, then torch's optimizer
    refuses the state (``ValueError: ... parameter groups``)."""
    capsys.readouterr()
    path = tokenizer_training_checkpoint
    tokenizer = _tiny_tokenizer(str(tmp_path / 'tok.pth'))
    line = _train_error(
        capsys, _pretrain_argv(tmp_path, tokenizer) + ['--resume', path])
    assert f'--resume {path}: it is a VQ-KD tokenizer checkpoint' in line
    assert 'this config trains BEiTv2' in line
    assert 'a BEiT v2 pretraining checkpoint (keys backbone., ' \
        'target_generator.' in line
    assert 'use load_from' in line


def test_tokenizer_as_backbone_init_checkpoint(tokenizer_training_checkpoint,
                                               tmp_path, capsys,
                                               monkeypatch):
    """A fine-tune config whose backbone ``init_cfg`` names a tokenizer:
    mmengine asserts ``backbone. is not in the pretrained model``."""
    capsys.readouterr()
    path = tokenizer_training_checkpoint
    tmp = str(tmp_path)
    config = write_config(tmp)
    monkeypatch.syspath_prepend(tmp)  # the config's sleep_hook module
    line = _train_error(capsys, [
        config, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
        'model.backbone.init_cfg.type=Pretrained',
        f'model.backbone.init_cfg.checkpoint={path}',
        'model.backbone.init_cfg.prefix=backbone.'
    ])
    assert f"init_cfg checkpoint {path} has no 'backbone.' keys" in line
    assert 'it is a VQ-KD tokenizer checkpoint (keys encoder., decoder., ' \
        'quantize.' in line
    assert 'BEiT v2 pretraining or fine-tuned checkpoint' in line


def _get_tokens_error(capsys, monkeypatch, tmp_path, image: str) -> str:
    from mmengine.config import Config
    config = str(tmp_path / 'vqkd.py')
    tokenizer_cfg = Config.fromfile(PRETRAIN_TINY).model.target_generator
    Config(dict(model=tokenizer_cfg)).dump(config)
    tokenizer = _tiny_tokenizer(str(tmp_path / 'tok.pth'))
    monkeypatch.setattr('sys.argv', [
        'get_tokens.py', config, tokenizer, image])
    assert run_cli(_tool('analysis_tools/get_tokens').main) == 2
    return _one_error_line(capsys)


def test_get_tokens_of_a_missing_image(tmp_path, capsys, monkeypatch):
    path = str(tmp_path / 'nope.png')
    line = _get_tokens_error(capsys, monkeypatch, tmp_path, path)
    assert line == (f'error: image file not found: {path}; pass paths of '
                    'existing image files (JPEG, PNG, ...)')


def test_get_tokens_of_a_file_that_is_not_an_image(tmp_path, capsys,
                                                   monkeypatch):
    path = str(tmp_path / 'notes.png')
    with open(path, 'w') as f:
        f.write('not an image\n')
    line = _get_tokens_error(capsys, monkeypatch, tmp_path, path)
    assert line == (f'error: {path} is not an image file PIL can read (13 '
                    'bytes); pass image files (JPEG, PNG, ...)')
