# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every layer-decay config's learning rate, per parameter group and per
iteration, against the official recipe.

The official code sets each group to ``schedule[it] * lr_scale``:
fine-tuning with unilm ``beit2/utils.cosine_scheduler`` (linear warmup from
0, ``np.linspace`` inclusive of the peak, then a per-iteration cosine to
``min_lr``), segmentation with mmcv's ``PolyLrUpdaterHook`` (poly from
iteration 0 to ``min_lr``, multiplied by the linear warmup factor). The
configs' own optimizer constructors and schedulers are built from the
config files and stepped as mmengine's ``ParamSchedulerHook`` steps them
(after each iteration), over a short epoch of 10 iterations.
"""
import glob
import math
import os.path as osp

import numpy as np
import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, DefaultScope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EPOCH_LENGTH = 10  # iterations per epoch of the epoch-based recipes


def _layer_decay_configs():
    found = []
    for path in sorted(
            glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                      recursive=True)):
        if '_base_' in path.split(osp.sep):
            continue
        cfg = Config.fromfile(path)
        rate = cfg.optim_wrapper.get('paramwise_cfg', {}).get(
            'layer_decay_rate', 1.0)
        if rate != 1.0:
            found.append(osp.relpath(path, REPO))
    return found


CONFIGS = _layer_decay_configs()


def test_every_layer_decay_recipe_is_covered():
    # IN-1k B/L from 300e and 1600e, IN-21k, 21k->1k B/L, the CIFAR
    # benchmark, the demo fine-tune, UperNet ADE20K B/L and CamVid
    assert len(CONFIGS) >= 12, CONFIGS
    assert any('upernet' in c for c in CONFIGS)
    assert any('in21k' in c for c in CONFIGS)


def _model(cfg: Config) -> nn.Module:
    """The config's model, narrow: layer ids depend on depth only."""
    if cfg.get('default_scope') == 'mmseg':
        import mmbeitv2.seg  # noqa: F401  (mmseg imports on mmcv-lite)
        from mmseg.registry import MODELS
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        model = cfg.model.copy()
        model.pop('data_preprocessor', None)
        num_layers = cfg.optim_wrapper.paramwise_cfg.num_layers
        model.backbone = dict(
            model.backbone,
            arch=dict(embed_dims=8, num_layers=num_layers, num_heads=2,
                      feedforward_channels=8),
            img_size=16, patch_size=4, init_cfg=None,
            out_indices=[num_layers - 1] * 4)
        model.neck = dict(model.neck, embed_dim=8)
        model.decode_head = dict(
            model.decode_head, in_channels=[8] * 4, channels=8)
        model.auxiliary_head = dict(
            model.auxiliary_head, in_channels=8, channels=8)
        return MODELS.build(model)
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    arch = cfg.model.backbone.arch
    num_layers = dict(base=12, large=24).get(arch) if isinstance(
        arch, str) else arch['num_layers']
    model = cfg.model.copy()
    model.backbone = dict(
        model.backbone,
        arch=dict(embed_dims=8, num_layers=num_layers, num_heads=2,
                  feedforward_channels=8),
        img_size=8, patch_size=4, init_cfg=None)
    model.head = dict(model.head, in_channels=8, init_cfg=None)
    model.pop('data_preprocessor', None)
    return MODELS.build(model)


def _official(cfg: Config, total: int):
    """The official schedule at scale 1 (lr_scale multiplies it), per
    iteration, and the warmup length."""
    warmup, main = cfg.param_scheduler
    base = cfg.optim_wrapper.optimizer.lr
    unit = EPOCH_LENGTH if warmup.get('convert_to_iter_based') else 1
    w = int(warmup.end * unit)
    if main.type == 'PolyLR':  # mmcv PolyLrUpdaterHook + linear warmup
        it = np.arange(total)
        regular = (base - main.eta_min) * (1 - it / total)**main.power \
            + main.eta_min
        k = (1 - it / w) * (1 - warmup.start_factor)
        factor = np.where(it < w, 1 - k, 1.0)
        return regular * factor, w
    # unilm beit2 utils.cosine_scheduler(start_warmup_value=0)
    warm = np.linspace(0, base, w)
    iters = np.arange(total - w)
    cos = main.eta_min + 0.5 * (base - main.eta_min) * (
        1 + np.cos(math.pi * iters / len(iters)))
    return np.concatenate((warm, cos)), w


@pytest.mark.parametrize('config', CONFIGS)
def test_lr_is_schedule_times_lr_scale(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    scope = cfg.get('default_scope', 'mmbeitv2')
    with DefaultScope.overwrite_default_scope(scope):
        model = _model(cfg)
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        schedulers = [
            PARAM_SCHEDULERS.build(
                s, default_args=dict(optimizer=optim,
                                     epoch_length=EPOCH_LENGTH))
            for s in cfg.param_scheduler
        ]
    groups = optim.optimizer.param_groups
    scales = np.array([g['lr_scale'] for g in groups])
    assert scales.min() < 0.5, 'layer decay did not reach the groups'
    if cfg.train_cfg.get('max_iters'):
        total = cfg.train_cfg.max_iters
    else:
        total = cfg.train_cfg.max_epochs * EPOCH_LENGTH
    assert schedulers[-1].end == total, 'the schedule ends early'
    official, warmup = _official(cfg, total)
    lrs = np.empty((total, len(groups)))
    for it in range(total):
        lrs[it] = [g['lr'] for g in groups]
        for s in schedulers:
            s.step()
    expected = official[:, None] * scales[None, :]
    base = cfg.optim_wrapper.optimizer.lr
    # mmengine's LinearLR and PolyLR reach their end value at step end - 1
    # (total_iters = end - begin - 1): the warmup equals the official
    # fine-tuning linspace, apart from its start at 1e-6 of the peak instead
    # of 0; against mmcv's hooks (segmentation: warmup factor it / w, poly
    # 1 - it / total) both run one step ahead: at most base / w and
    # base / total apart.
    poly = 1 / total if cfg.param_scheduler[-1].type == 'PolyLR' else 0
    step = 1 / warmup if poly else 0
    np.testing.assert_allclose(
        lrs[warmup:], expected[warmup:], rtol=1e-6,
        atol=base * max(poly, 1e-12))
    start = cfg.param_scheduler[0].start_factor
    assert np.all(np.abs(lrs[:warmup] - expected[:warmup]) <=
                  (start + step + poly + 1e-9) * base * scales)
    # every group at its scale of one schedule at every iteration
    head = lrs[:, :1] / scales[0]
    np.testing.assert_allclose(
        lrs / scales, np.broadcast_to(head, lrs.shape), rtol=1e-9)
