# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""CenteredTeacher (``teacher=dict(..., center=True)``): the named deviation
that subtracts a running mean of the teacher features before the cosine
loss; its running mean is saved under the tokenizer's own keys."""
import pytest
import torch
from test_vqkd import CFG, build, images


def centred(**kwargs):
    return build(teacher=dict(CFG['teacher'], center=True, **kwargs))


def test_default_keeps_official_layout():
    model = build()
    assert not any(k.startswith('target_mean') for k in model.state_dict())


def test_loss_uses_centred_target_and_running_mean():
    from mmbeitv2.models.tokenizers import CenteredTeacher
    torch.manual_seed(0)
    model = centred(center_momentum=0.5).train()
    assert isinstance(model.teacher, CenteredTeacher)
    assert model.teacher.momentum == 0.5
    plain, mean = model.teacher.teacher, model.teacher.target_mean
    x1, x2 = images(seed=1), images(seed=2)
    t1 = plain(x1, (4, 4)).float()  # (B, N, C)
    model(x1, mode='loss')
    # First batch: the running mean starts at that batch's mean.
    torch.testing.assert_close(mean, t1.mean((0, 1)))
    t2 = plain(x2, (4, 4)).float()
    model(x2, mode='loss')
    torch.testing.assert_close(
        mean, 0.5 * t1.mean((0, 1)) + 0.5 * t2.mean((0, 1)))

    # The loss is 1 - cos against the centred target; eval does not update.
    model.eval()
    mean = mean.clone()
    with torch.no_grad():
        z_q, _, _ = model.quantize(model.encode(x2), update=False)
        rec = model.decode(z_q).float()
        expected = model.calculate_rec_loss(rec, t2 - mean)
        uncentred = model.calculate_rec_loss(rec, t2)
        got = 1 - torch.tensor(
            [o['rec_cos_distance'] for o in model.predict(x2)]).mean()
    assert torch.equal(model.teacher.target_mean, mean)
    torch.testing.assert_close(1 - got, expected, atol=1e-5, rtol=0)
    assert (expected - uncentred).abs() > 1e-3  # centring changed the loss


def test_running_mean_is_saved_under_the_tokenizers_keys():
    model = centred()
    keys = list(model.state_dict())
    # where VQKDTokenizer(center_target=True) kept them: first, top level
    assert keys[:2] == ['target_mean', 'target_mean_initted']
    assert keys[2:] == list(build().state_dict())
    assert not any('teacher' in k for k in keys)
    assert model.state_dict()['target_mean'].shape == (112, )


def test_centred_checkpoint_loads_into_tokens_only_model(tmp_path):
    torch.manual_seed(0)
    trained = centred().train()
    trained(images(), mode='loss')
    path = str(tmp_path / 'tok.pth')
    torch.save(dict(state_dict=trained.state_dict()), path)
    # A pretraining target generator (tokens only, default options).
    model = build(
        teacher=None, init_cfg=dict(type='Pretrained', checkpoint=path))
    x = images(seed=3)
    assert torch.equal(model.eval().get_tokens(x),
                       trained.eval().get_tokens(x))
    # A centred model restores its running mean.
    again = build(
        teacher=dict(CFG['teacher'], center=True),
        init_cfg=dict(type='Pretrained', checkpoint=path))
    assert torch.equal(again.teacher.target_mean, trained.teacher.target_mean)
    assert again.teacher.target_mean_initted == 1


def test_strict_load_without_the_running_mean_reports_it_missing():
    state = build().state_dict()
    with pytest.raises(RuntimeError, match='target_mean'):
        centred().load_state_dict(state, strict=True)


def test_runner_checkpoints_keep_the_running_mean():
    # mmengine saves and resumes with its own state-dict walkers
    from mmengine.runner.checkpoint import get_state_dict, load_state_dict
    trained = centred().train()
    trained(images(), mode='loss')
    state = get_state_dict(trained)
    assert list(state) == list(trained.state_dict())
    resumed = centred()
    load_state_dict(resumed, state, strict=True)
    assert torch.equal(resumed.teacher.target_mean,
                       trained.teacher.target_mean)


def test_with_the_cache_the_cache_is_inside_the_centring():
    from mmbeitv2.models.tokenizers import CachedTeacher, CenteredTeacher
    teacher = centred(cache=True).teacher
    assert isinstance(teacher, CenteredTeacher)
    assert isinstance(teacher.teacher, CachedTeacher)


def test_center_momentum_without_center_is_refused():
    with pytest.raises(TypeError, match='center_momentum'):
        build(teacher=dict(CFG['teacher'], center_momentum=0.5))
