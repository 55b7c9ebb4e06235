# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The CIFAR-10 benchmark's pixel-target baseline: mmpretrain's MAE on the
BEiT v2 student's architecture, and its probe config loading every encoder
weight of an MAE checkpoint."""
import os.path as osp

import torch
from mmengine.config import Config

from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAE = osp.join(REPO, 'configs/demo/mae_vit-4x128-p4_cifar10.py')
PROBE = osp.join(REPO,
                 'configs/demo/vit-4x128-p4_mae-pre_linear-probe_cifar10.py')
BEITV2 = osp.join(REPO, 'configs/demo/beitv2_cifar10.py')


def test_mae_trains_the_students_architecture_and_its_probe_loads_it(
        tmp_path):
    register_all_modules()
    mae_cfg, beit_cfg = Config.fromfile(MAE), Config.fromfile(BEITV2)
    # same ViT, data, budget and peak lr as the BEiT v2 pretraining
    assert mae_cfg.model.backbone.arch == beit_cfg.model.backbone.arch
    assert mae_cfg.train_cfg.max_iters == beit_cfg.train_cfg.max_iters
    assert mae_cfg.train_dataloader.batch_size == \
        beit_cfg.train_dataloader.batch_size == 64
    assert mae_cfg.param_scheduler == beit_cfg.param_scheduler
    assert mae_cfg.optim_wrapper.optimizer.lr == \
        beit_cfg.optim_wrapper.optimizer.lr
    torch.manual_seed(0)
    mae = MODELS.build(mae_cfg.model)
    mae.init_weights()
    opt = torch.optim.AdamW(mae.parameters(), lr=1e-3)
    # what default_collate of the config's loader gives: (B, 3, H, W) BGR
    images = (torch.rand(4, 3, 32, 32) * 255).to(torch.uint8)
    data = mae.data_preprocessor(
        dict(inputs=images, data_samples=[None] * 4), True)
    before = mae.state_dict()['backbone.layers.0.attn.qkv.weight'].clone()
    losses = mae(data['inputs'], [None] * 4, mode='loss')
    losses['loss'].backward()
    opt.step()
    assert torch.isfinite(losses['loss'])
    state = mae.state_dict()
    assert not torch.equal(state['backbone.layers.0.attn.qkv.weight'],
                           before)
    ckpt = str(tmp_path / 'mae.pth')
    torch.save(dict(state_dict=state), ckpt)

    probe_cfg = Config.fromfile(PROBE)
    probe_cfg.model.backbone.init_cfg.checkpoint = ckpt
    from mmbeitv2.compat import install_runtime_patches
    install_runtime_patches()
    probe = MODELS.build(probe_cfg.model)
    probe.init_weights()
    loaded = probe.backbone.state_dict()
    assert len(loaded) > 40
    for key, value in loaded.items():
        torch.testing.assert_close(value, state['backbone.' + key],
                                   rtol=0, atol=0, msg=key)
    # one output per block, [CLS] + 64 patch tokens
    probe.eval()
    outs = probe.backbone(torch.rand(2, 3, 32, 32))
    assert [o.shape for o in outs] == [(2, 65, 128)] * 4
