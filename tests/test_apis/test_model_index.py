# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The project's configs as an mmpretrain model index:
``mmpretrain.get_model('<our config name>', pretrained=PATH)``."""
import glob
import os.path as osp

import torch

from mmbeitv2.apis import get_model, list_models

ROOT = osp.join(osp.dirname(__file__), '..', '..')
NAME = 'vit-4x128-p4_finetune_cifar10'


def test_every_config_is_in_the_index():
    configs = {
        osp.basename(p)[:-3]
        for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                           recursive=True) if '_base_' not in p
    }
    assert configs == set(list_models())


def test_mmpretrain_get_model_builds_ours(tmp_path):
    import mmpretrain
    model = mmpretrain.get_model(NAME)
    assert type(model.backbone).__name__ == 'BEiTv2ViT'
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.1)
    path = str(tmp_path / 'ft.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=3)), path)
    loaded = mmpretrain.get_model(NAME, pretrained=path)
    ours = get_model(NAME, path)  # a name works with our API too
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.backbone(x)[0],
                                   model.backbone(x)[0])
        torch.testing.assert_close(ours.backbone(x)[0],
                                   model.backbone(x)[0])
