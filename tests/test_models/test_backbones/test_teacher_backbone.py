# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""TeacherBackbone: a frozen teacher as a linear-probe backbone."""
import torch

from mmbeitv2.models.backbones import TeacherBackbone


def _backbone():
    # pretrained=False: a random EfficientNet-Lite0, no weight file needed
    return TeacherBackbone(
        teacher=dict(
            type='EfficientNetLite0Teacher', input_size=64,
            pretrained=False))


def test_output_is_the_space_averaged_feature_map():
    bb = _backbone()
    x = torch.rand(2, 3, 32, 32)
    (feat, ) = bb(x)
    assert feat.shape == (2, 112)  # block 10: 112 channels
    t = bb.teacher
    fmap = t.extract(t.normalize(t.resize_input(x)))  # (2, 112, 4, 4)
    assert fmap.shape[-2:] == (4, 4)
    torch.testing.assert_close(feat, fmap.mean(dim=(2, 3)))


def test_frozen_and_always_eval():
    bb = _backbone()
    assert not any(p.requires_grad for p in bb.parameters())
    bb.train()
    assert not bb.training and not bb.teacher.training
    assert all(not m.training for m in bb.modules())
    before = {k: v.clone() for k, v in bb.state_dict().items()}
    (feat, ) = bb(torch.rand(4, 3, 32, 32))
    assert not feat.requires_grad
    for k, v in bb.state_dict().items():  # BN running stats untouched
        assert torch.equal(v, before[k]), k
