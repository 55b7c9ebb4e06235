# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Swap the test set of a config for another one (a config fragment)."""
import copy
import os.path as osp
from typing import Optional, Union

from mmengine.config import Config

from mmbeitv2.errors import UserInputError


def _plain(value):
    """A deep copy with ``ConfigDict``s turned into dicts."""
    value = value.to_dict() if hasattr(value, 'to_dict') else value
    return copy.deepcopy(value)


def apply_test_set(cfg: Config,
                   test_set: Union[str, Config],
                   data_root: Optional[str] = None) -> Config:
    """Point the test loop of ``cfg`` at the test set of a fragment.

    The fragment (e.g. ``configs/_base_/datasets/robustness/imagenet_a.py``)
    holds ``test_dataloader=dict(dataset=...)`` and ``test_evaluator``. Its
    dataset replaces the one of ``cfg`` whole; the loader settings of
    ``cfg`` (batch size, workers, sampler) are kept unless the fragment sets
    them, and so is the test pipeline of ``cfg`` unless the fragment's
    dataset has one, because the model config knows its input size. The
    fragment's evaluator replaces ``cfg.test_evaluator``.

    Args:
        cfg (Config): A full config with a ``test_dataloader``.
        test_set (str | Config): The fragment or its path.
        data_root (str, optional): Replaces the fragment's ``data_root``.
            Defaults to None.

    Returns:
        Config: ``cfg``, changed in place.
    """
    if isinstance(test_set, str):
        if not osp.isfile(test_set):
            raise UserInputError(
                f'test set config not found: {test_set}; pass a fragment '
                'such as configs/_base_/datasets/robustness/imagenet_a.py')
        test_set = Config.fromfile(test_set)
    if 'test_dataloader' not in test_set or \
            'dataset' not in test_set.test_dataloader or \
            'test_evaluator' not in test_set:
        raise UserInputError(
            f'{test_set.filename}: a test set fragment needs '
            'test_dataloader=dict(dataset=...) and test_evaluator')
    if not cfg.get('test_dataloader'):
        raise UserInputError(
            f'{cfg.filename}: no test_dataloader to replace; use a config '
            'that tests (e.g. an ImageNet-1k fine-tune config)')
    loader = _plain(cfg.test_dataloader)
    fragment = _plain(test_set.test_dataloader)
    dataset = fragment.pop('dataset')
    if 'pipeline' not in dataset:
        pipeline = loader.get('dataset', {}).get('pipeline')
        if pipeline is None:
            raise UserInputError(
                f'{cfg.filename}: test_dataloader.dataset has no pipeline '
                f'to reuse; give one in {test_set.filename}')
        dataset['pipeline'] = pipeline
    if data_root is not None:
        dataset['data_root'] = data_root
    loader.update(fragment)
    loader['dataset'] = dataset
    cfg.test_dataloader = loader
    cfg.test_evaluator = _plain(test_set.test_evaluator)
    cfg.test_cfg = cfg.get('test_cfg') or dict()
    return cfg
