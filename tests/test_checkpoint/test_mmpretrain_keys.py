# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2 -> mmpretrain ``BEiTViT``: the exported weights + config build
a model with the same features and logits (fp32, 1e-5)."""
import pytest
import torch
from mmengine.config import Config

from ._models import (PRETRAIN, backbone, classifier, export_model, logits,
                      save_pretrain, tool)


def _build(config: str):
    from mmpretrain import get_model
    model = get_model(config, pretrained=True)  # loads ``load_from``
    return model.eval()


def test_pretrain_backbone(tmp_path):
    vit = backbone(**PRETRAIN)
    src = save_pretrain(str(tmp_path / 'pre.pth'), vit)
    dst = str(tmp_path / 'beit_mmpretrain.pth')
    tool('mmbeitv2_to_mmpretrain').main([src, dst])
    cfg = Config.fromfile(str(tmp_path / 'beit_mmpretrain.py'))
    assert cfg.model.backbone.type == 'BEiTViT'
    assert cfg.model.backbone.use_shared_rel_pos_bias
    sd = torch.load(dst, weights_only=True)['state_dict']
    assert 'backbone.mask_token' not in sd
    model = _build(str(tmp_path / 'beit_mmpretrain.py'))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.backbone(x)[0], vit(x)[0],
                                   atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    'arch', ['tiny', pytest.param('base', marks=pytest.mark.integration)])
def test_classifier_logits(tmp_path, arch):
    if arch == 'base':
        model = classifier(arch='base', img_size=224, patch_size=16,
                           num_classes=7)
        x = torch.randn(1, 3, 224, 224)
    else:
        model = classifier()
        x = torch.randn(2, 3, 32, 32)
    export_model(tmp_path, model, 'mmbeitv2_to_mmpretrain',
                 'ft_mmpretrain.pth')
    ref = _build(str(tmp_path / 'ft_mmpretrain.py'))
    assert type(ref.backbone).__name__ == 'BEiTViT'
    with torch.no_grad():
        torch.testing.assert_close(ref.backbone(x)[-1], model.backbone(x)[-1],
                                   atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ref.head.fc(ref.backbone(x)[-1]),
                                   logits(model, x), atol=1e-5, rtol=1e-5)
