# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""CachedTeacher (``teacher=dict(..., cache=True)``): the teacher runs once
per view, its features equal the uncached ones, and a VQ-KD run with it has
the uncached run's losses, gradients and updates."""
import copy

import pytest
import torch
from mmpretrain.structures import DataSample

from mmbeitv2.errors import UserInputError
from mmbeitv2.utils import register_all_modules
from tiny_models import vit_arch, vqkd_cfg

TINY = vit_arch(32, 2)
TEACHER = dict(
    type='EfficientNetLite0Teacher', input_size=64, pretrained=False)
# 32 px, patch 8 -> 4x4 codes; EfficientNet-Lite0 at 64 px (random weights):
# a 4x4 map, resampled to 8x8 with patch 4 below (to_grid is exercised).
CFG = vqkd_cfg(TINY, num_embed=32, decoder_out_dims=112, teacher=TEACHER)
CFG['encoder']['patch_size'] = 4
CFG['decoder']['img_size'] = 8


def build(cache=False):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    torch.manual_seed(0)
    cfg = copy.deepcopy(CFG)
    cfg['teacher']['cache'] = cache
    model = MODELS.build(cfg)
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


def count_calls(teacher):
    """Record the batch size of every call of the inner teacher."""
    calls = []
    raw = teacher.raw_feature_map
    teacher.raw_feature_map = lambda x, grid: (calls.append(len(x)),
                                               raw(x, grid))[1]
    return calls


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


def test_build_wraps_the_configured_teacher():
    from mmbeitv2.models.tokenizers import (CachedTeacher,
                                            EfficientNetLite0Teacher)
    teacher = build(cache=True).teacher
    assert isinstance(teacher, CachedTeacher)
    assert isinstance(teacher.teacher, EfficientNetLite0Teacher)
    assert teacher.teacher.input_size == 64
    assert not isinstance(build().teacher, CachedTeacher)


def test_cached_features_equal_uncached_and_second_epoch_skips_teacher():
    register_all_modules()
    from mmbeitv2.registry import MODELS
    cached = MODELS.build(dict(type='CachedTeacher', teacher=TEACHER))
    plain = cached.teacher
    calls = count_calls(plain)
    g = torch.Generator().manual_seed(0)
    views = torch.rand(4, 3, 32, 32, generator=g)
    ref = plain(views, (8, 8))  # (B, N, C)
    calls.clear()
    epoch1 = cached(views, (8, 8), samples([0, 1, 2, 3]))
    assert calls == [4]
    calls.clear()
    epoch2 = cached(views[[3, 1]], (8, 8), samples([3, 1]))
    assert calls == []  # the second epoch never runs the inner teacher
    assert torch.equal(epoch1, ref)
    assert torch.equal(epoch2, ref[[3, 1]])
    # no data samples (predict): straight through the teacher, uncached
    assert torch.equal(cached(views, (8, 8)), ref)
    assert calls == [4] and sorted(cached._maps) == [0, 1, 2, 3]


def test_cached_losses_equal_uncached_and_teacher_runs_once_per_view():
    g = torch.Generator().manual_seed(0)
    views = torch.rand(6, 3, 32, 32, generator=g)  # 6 distinct views
    # epoch 1 sees views 0-3, epoch 2 repeats 2, 3 and adds 4, 5, then all
    steps = [(views[[0, 1, 2, 3]], [0, 1, 2, 3]),
             (views[[2, 4, 3, 5]], [2, 4, 3, 5]),
             (views[[5, 0, 1, 4]], [5, 0, 1, 4])]
    plain = build()
    cached = build(cache=True)
    calls = count_calls(cached.teacher.teacher)
    ref, got = run(plain, steps), run(cached, steps)
    assert calls == [4, 2]  # each view through the teacher once
    assert sorted(cached.teacher._maps) == [0, 1, 2, 3, 4, 5]
    for (r_rec, r_commit), (c_rec, c_commit) in zip(ref, got):
        assert c_rec == pytest.approx(r_rec, rel=1e-6, abs=1e-7)
        assert c_commit == pytest.approx(r_commit, rel=1e-6, abs=1e-7)
    for (name, p), q in zip(plain.named_parameters(), cached.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-5, atol=1e-6, msg=name)
    # the cache is not part of the checkpoint: the keys are the plain ones
    assert list(cached.state_dict()) == list(plain.state_dict())


def test_missing_view_ids_is_one_clear_error():
    model = build(cache=True)
    with pytest.raises(UserInputError, match='FixedViews.*view_id') as e:
        model(torch.rand(2, 3, 32, 32), [DataSample(), DataSample()],
              mode='loss')
    assert '\n' not in str(e.value)
    assert 'model.teacher.cache=False' in str(e.value)
