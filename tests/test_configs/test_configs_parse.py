# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every config under configs/ parses (``Config.fromfile``): ``_base_``
files and cross-repo ``mmpretrain::`` / ``mmseg::`` bases resolve, and
``custom_imports`` import. Building the models is tested by each config's
owner."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                          recursive=True))


def test_there_are_configs():
    assert CONFIGS, 'no config found under configs/'


@pytest.mark.parametrize('config', CONFIGS)
def test_config_parses(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    if '_base_' in config.split(osp.sep):
        return  # fragments need not be complete configs
    assert cfg.get('default_scope') in ('mmbeitv2', 'mmseg'), config
    assert 'model' in cfg, config
