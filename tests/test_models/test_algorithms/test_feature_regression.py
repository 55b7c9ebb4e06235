# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The feature-regression diagnostic (``TeacherFeatures`` +
``FeatureRegressionHead`` in ``BEiTv2``): targets are the teacher's
l2-normalised patch features, the loss is the cosine distance on the
masked patches only, and both computation paths agree."""
import os.path as osp
import random

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmbeitv2.datasets.transforms.blockwise_mask_generator import \
    BlockwiseMaskGenerator
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIG = osp.join(REPO, 'configs', 'demo', 'ablations',
                  'beitv2_demo_feature-regression.py')


def _model():
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(CONFIG).model
    cfg.target_generator.teacher.pretrained = False  # no weight file read
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def _batch(b=3):
    gen = BlockwiseMaskGenerator(input_size=32, patch_size=4,
                                 num_masking_patches=26, min_num_patches=8)
    random.seed(0)
    np.random.seed(0)
    samples = []
    for _ in range(b):
        ds = DataSample()
        ds.set_field(gen.generate(), 'mask')
        samples.append(ds)
    g = torch.Generator().manual_seed(1)
    return [torch.rand(b, 3, 32, 32, generator=g),
            torch.rand(b, 3, 32, 32, generator=g)], samples


def test_targets_are_normalised_teacher_features_on_the_grid():
    model = _model()
    x = _batch()[0][1]
    tg = model.target_generator
    feats = tg.get_tokens(x)
    assert feats.shape == (3, 64, 112)
    torch.testing.assert_close(feats.norm(dim=-1), torch.ones(3, 64))
    # the teacher's own map, resampled to 8x8 as the tokenizer's target
    maps = tg.teacher.to_grid(tg.teacher.raw_feature_map(x, (8, 8)), (8, 8))
    ref = F.normalize(maps.flatten(2).transpose(1, 2), dim=-1)
    torch.testing.assert_close(feats, ref)
    pos = torch.tensor([[0, 9, 63], [1, 2, 3], [5, 40, 41]])
    q = tg.get_tokens(x, torch.cat([torch.zeros(3, 1).long(), pos + 1], 1))
    torch.testing.assert_close(q, feats.gather(
        1, pos[..., None].expand(-1, -1, 112)))


def test_loss_is_cosine_distance_on_masked_patches_both_paths():
    model = _model()
    inputs, samples = _batch()
    with torch.no_grad():
        got = model.loss(inputs, samples)
        model.use_masked_only_last_blocks = False
        plain = model.loss(inputs, samples)
        # by hand: every token computed, the masked ones picked
        mask = torch.stack([torch.as_tensor(s.mask).flatten()
                            for s in samples]).bool()
        target = model.target_generator.get_tokens(inputs[1])[mask]
        feats, feats_agg = model.forward_features(inputs[0], mask)
        head = model.head.reg_head
        manual = (1 - F.cosine_similarity(head(feats[mask]), target)).mean()
    assert set(got) == {'loss_reg', 'loss_reg_agg'}
    for k in got:
        torch.testing.assert_close(got[k], plain[k], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(plain['loss_reg'], manual)
    assert abs(got['loss_reg'] - got['loss_reg_agg']) > 1e-4
