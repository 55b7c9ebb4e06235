# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The BEiT v2 ImageNet pretraining pipeline gives the official sample: under
the same python / numpy / torch seeds, its two views and its mask equal what
the official ``DataAugmentationForBEiT`` (microsoft/unilm beit2/datasets.py)
computes with torchvision on PIL images; mmpretrain's pipeline stays
reachable as ``mmpretrain_train_pipeline``."""
import glob
import math
import os.path as osp
import random

import numpy as np
import pytest
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from mmengine.config import Config
from mmengine.dataset import Compose
from PIL import Image

from mmbeitv2.registry import TRANSFORMS
from mmbeitv2.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = sorted(
    c for c in glob.glob(osp.join(REPO, 'configs', 'beitv2', '*_in1k.py')))
BASE_300E = osp.join(REPO, 'configs', 'beitv2',
                     'beitv2_vit-base-p16_16xb128-coslr-300e_in1k.py')


def official_box(width, height, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3)):
    """The official crop-box draw (python random), written out."""
    area = width * height
    for _ in range(10):
        target_area = random.uniform(*scale) * area
        aspect = math.exp(
            random.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if w <= width and h <= height:
            return (random.randint(0, height - h),
                    random.randint(0, width - w), h, w)
    raise AssertionError('the test image never needs the fallback')


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build(pipeline):
    register_all_modules()
    return Compose([TRANSFORMS.build(t) for t in pipeline])


@pytest.fixture(scope='module')
def jpeg(tmp_path_factory):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:300, 0:400]
    img = np.stack([x * 0.6, y * 0.8, (x + y) * 0.3], -1)
    img = np.clip(img + rng.normal(0, 25, img.shape), 0, 255)
    path = str(tmp_path_factory.mktemp('img') / 'photo.jpg')
    Image.fromarray(img.astype(np.uint8)).save(path, quality=90)
    return path


@pytest.mark.parametrize('config', PRETRAIN, ids=osp.basename)
def test_pretrain_configs_use_the_official_views(config):
    pipeline = Config.fromfile(config).train_dataloader.dataset.pipeline
    types = [t['type'] for t in pipeline]
    assert types == [
        'LoadImageFromFile', 'PILColorJitter', 'TorchRandomFlip',
        'PILRandomResizedCropWithTwoPic', 'BlockwiseMaskGenerator',
        'PackInputs'
    ]
    assert pipeline[0]['imdecode_backend'] == 'pillow'
    crop = pipeline[3]
    assert (crop['size'], crop['second_size'], crop['scale']) == (224, 224,
                                                                  (0.2, 1.0))
    assert crop['interpolation'] == crop['second_interpolation'] == 'bicubic'


def test_pipeline_gives_the_official_sample(jpeg):
    cfg = Config.fromfile(BASE_300E)
    pipeline = build(cfg.train_dataloader.dataset.pipeline)
    mask_cfg = cfg.train_dataloader.dataset.pipeline[4]
    common = T.Compose([T.ColorJitter(0.4, 0.4, 0.4),
                        T.RandomHorizontalFlip(0.5)])
    flips = set()
    for seed in range(6):
        seed_all(seed)
        out = pipeline(dict(img_path=jpeg))
        seed_all(seed)
        with open(jpeg, 'rb') as f:  # the official loader
            img = common(Image.open(f).convert('RGB'))
        box = official_box(*img.size)
        ref = np.asarray(
            TF.resized_crop(img, *box, [224, 224],
                            T.InterpolationMode.BICUBIC))
        ref_mask = TRANSFORMS.build(mask_cfg)({})['mask']
        seed_all(seed)
        T.ColorJitter.get_params((0.6, 1.4), (0.6, 1.4), (0.6, 1.4), None)
        flips.add(bool(torch.rand(1) < 0.5))  # the official flip draw
        for view in out['inputs']:  # (3, 224, 224) uint8, BGR
            rgb = view.permute(1, 2, 0).numpy()[..., ::-1]
            assert np.abs(rgb.astype(int) - ref).max() == 0
        assert np.array_equal(out['data_samples'].mask, ref_mask)
        assert ref_mask.sum() == 75
    assert flips == {True, False}  # both branches were compared


def test_mmpretrain_views_stay_reachable(tmp_path, jpeg):
    user_cfg = tmp_path / 'old_views.py'
    user_cfg.write_text(
        f'_base_ = {BASE_300E!r}\n'
        'train_dataloader = dict(\n'
        '    dataset=dict(pipeline={{_base_.mmpretrain_train_pipeline}}))\n')
    pipeline = Config.fromfile(str(user_cfg)).train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline][:4] == [
        'LoadImageFromFile', 'ColorJitter', 'RandomFlip',
        'RandomResizedCropAndInterpolationWithTwoPic'
    ]
    seed_all(0)
    out = build(pipeline)(dict(img_path=jpeg))
    assert [tuple(v.shape) for v in out['inputs']] == [(3, 224, 224)] * 2
    assert out['data_samples'].mask.sum() == 75
