# Copyright (c) mmbeitv2 contributors. All rights reserved.
import pytest
from mmengine.config import Config

from mmbeitv2.cli import apply_test_set
from mmbeitv2.errors import UserInputError

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def _cfg():
    return Config(
        dict(
            test_dataloader=dict(
                batch_size=8,
                num_workers=2,
                dataset=dict(
                    type='ImageNet',
                    data_root='data/imagenet',
                    split='val',
                    pipeline=PIPELINE)),
            test_evaluator=dict(type='Accuracy', topk=(1, )),
            test_cfg=dict()))


def _fragment(**loader):
    return Config(
        dict(
            test_dataloader=dict(
                dataset=dict(type='mmbeitv2.ImageNetVariant',
                             variant='imagenet-a', data_root='data/a'),
                **loader),
            test_evaluator=dict(type='mmbeitv2.SubsetAccuracy',
                                subset='imagenet-a')))


def test_dataset_and_evaluator_replaced_pipeline_and_loader_kept():
    cfg = apply_test_set(_cfg(), _fragment(), data_root='/x/imagenet-a')
    dataset = cfg.test_dataloader.dataset
    # the whole dataset is the fragment's: no ImageNet 'split' left over
    assert dataset.to_dict() == dict(
        type='mmbeitv2.ImageNetVariant', variant='imagenet-a',
        data_root='/x/imagenet-a', pipeline=PIPELINE)
    assert cfg.test_dataloader.batch_size == 8
    assert cfg.test_dataloader.num_workers == 2
    assert cfg.test_evaluator.type == 'mmbeitv2.SubsetAccuracy'


def test_fragment_loader_settings_win():
    cfg = apply_test_set(_cfg(), _fragment(batch_size=2))
    assert cfg.test_dataloader.batch_size == 2
    assert cfg.test_dataloader.dataset.data_root == 'data/a'


def test_errors(tmp_path):
    with pytest.raises(UserInputError, match='test set config not found'):
        apply_test_set(_cfg(), str(tmp_path / 'none.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text("test_dataloader = dict(dataset=dict(type='X'))\n")
    with pytest.raises(UserInputError, match='needs'):
        apply_test_set(_cfg(), str(bad))
    cfg = _cfg()
    del cfg.test_dataloader.dataset.pipeline
    with pytest.raises(UserInputError, match='no pipeline to reuse'):
        apply_test_set(cfg, _fragment())
