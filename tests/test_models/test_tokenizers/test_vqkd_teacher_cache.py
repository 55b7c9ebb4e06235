# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""VQKDTokenizer(teacher_cache=True): the teacher runs once per view and the
losses, gradients and updates equal the uncached run's."""
import copy

import pytest
import torch
from mmpretrain.structures import DataSample

from mmbeitv2.errors import UserInputError
from mmbeitv2.utils import register_all_modules
from tiny_models import vit_arch, vqkd_cfg

TINY = vit_arch(32, 2)
# 32 px, patch 8 -> 4x4 codes; EfficientNet-Lite0 at 64 px (random weights):
# a 4x4 map, resampled to 8x8 with patch 4 below (to_grid is exercised).
CFG = vqkd_cfg(
    TINY, num_embed=32, decoder_out_dims=112,
    teacher=dict(
        type='EfficientNetLite0Teacher', input_size=64, pretrained=False))
CFG['encoder']['patch_size'] = 4
CFG['decoder']['img_size'] = 8


def build(**kwargs):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(dict(copy.deepcopy(CFG), **kwargs))
    model.init_weights()
    return model


def samples(view_ids):
    """What PackInputs(algorithm_keys=['view_id']) gives."""
    out = []
    for v in view_ids:
        sample = DataSample()
        sample.set_field(v, 'view_id')
        out.append(sample)
    return out


def run(model, steps):
    """Train steps of (images, view ids); returns the losses per step."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.manual_seed(1)  # the same k-means initialisation
    out = []
    for images, view_ids in steps:
        losses = model(images, samples(view_ids), mode='loss')
        opt.zero_grad()
        (losses['loss_rec'] + losses['loss_commit']).backward()
        opt.step()
        out.append((losses['loss_rec'].item(), losses['loss_commit'].item()))
    return out


def test_cached_losses_equal_uncached_and_teacher_runs_once_per_view():
    g = torch.Generator().manual_seed(0)
    views = torch.rand(6, 3, 32, 32, generator=g)  # 6 distinct views
    # epoch 1 sees views 0-3, epoch 2 repeats 2, 3 and adds 4, 5, then all
    steps = [(views[[0, 1, 2, 3]], [0, 1, 2, 3]),
             (views[[2, 4, 3, 5]], [2, 4, 3, 5]),
             (views[[5, 0, 1, 4]], [5, 0, 1, 4])]
    plain = build()
    cached = build(teacher_cache=True)
    calls = []
    raw = cached.teacher.raw_feature_map
    cached.teacher.raw_feature_map = lambda x, grid: (
        calls.append(len(x)), raw(x, grid))[1]
    ref, got = run(plain, steps), run(cached, steps)
    assert calls == [4, 2]  # each view through the teacher once
    assert sorted(cached._teacher_maps) == [0, 1, 2, 3, 4, 5]
    for (r_rec, r_commit), (c_rec, c_commit) in zip(ref, got):
        assert c_rec == pytest.approx(r_rec, rel=1e-6, abs=1e-7)
        assert c_commit == pytest.approx(r_commit, rel=1e-6, abs=1e-7)
    for (name, p), q in zip(plain.named_parameters(), cached.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-5, atol=1e-6, msg=name)
    # the cache is not part of the checkpoint
    assert not any('teacher' in k for k in cached.state_dict())


def test_missing_view_ids_is_one_clear_error():
    model = build(teacher_cache=True)
    with pytest.raises(UserInputError, match="FixedViews.*view_id"):
        model(torch.rand(2, 3, 32, 32), [DataSample(), DataSample()],
              mode='loss')
