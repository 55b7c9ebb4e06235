# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Every config of configs/beitv2/benchmarks builds and runs one training
iteration and one evaluation on tiny shapes (tiny arch, 32 px, a few JPEGs
in a temporary ImageFolder / CamVid-like folder; no download)."""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

CONFIG_DIR = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'beitv2', 'benchmarks')
ALL = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
CLS = [c for c in ALL if not osp.basename(c).startswith('upernet')]
SEG = [c for c in ALL if osp.basename(c).startswith('upernet')]
TINY = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)
NUM_CLASSES = 10


def _walk(obj, fn):
    """Apply ``fn`` to every dict nested in lists/dicts of a config."""
    if isinstance(obj, dict):
        fn(obj)
        for v in obj.values():
            _walk(v, fn)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _walk(v, fn)


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory) -> str:
    """2 classes x 2 RGB JPEGs of 32x32, as CIFAR (ImageFolder layout)."""
    root = tmp_path_factory.mktemp('imgs')
    rng = np.random.default_rng(0)
    for c in ('cat', 'dog'):
        (root / c).mkdir()
        for i in range(2):
            arr = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / c / f'{i}.jpg')
    return str(root)


def _shrink_cls_pipeline(t: dict) -> None:
    if t.get('type') == 'RandomResizedCrop':
        t['scale'] = 32
    elif t.get('type') == 'ResizeEdge':
        t['scale'] = 36
    elif t.get('type') == 'CenterCrop':
        t['crop_size'] = 32


def tiny_cls_cfg(path: str, data_root: str, work_dir: str) -> Config:
    cfg = Config.fromfile(path)
    num_layers = TINY['num_layers']
    bb = cfg.model.backbone
    bb.update(arch=TINY, img_size=32, patch_size=8, init_cfg=None)
    if bb.out_type == 'raw':  # the per-layer probe
        bb.out_indices = list(range(num_layers))
        cfg.model.head.num_layers = num_layers
    cfg.model.head.update(in_channels=32, num_classes=NUM_CLASSES)
    if cfg.model.get('neck'):
        cfg.model.neck.input_features = 32
    cfg.data_preprocessor.num_classes = NUM_CLASSES
    dataset = dict(
        type='CustomDataset',
        data_root=data_root,
        pipeline=copy.deepcopy(cfg.train_dataloader.dataset.pipeline))
    _walk(dataset['pipeline'], _shrink_cls_pipeline)
    cfg.train_dataloader.update(
        batch_size=4, num_workers=0, persistent_workers=False)
    # assignment replaces the dict (ConfigDict.update would merge)
    cfg.train_dataloader['dataset'] = dataset
    cfg.train_dataloader['sampler'] = dict(
        type='DefaultSampler', shuffle=True)
    # the 21k configs have no evaluation; borrow the ImageNet one
    base = Config.fromfile(CLS[0])
    val = copy.deepcopy(cfg.get('val_dataloader') or base.val_dataloader)
    val.update(batch_size=4, num_workers=0, persistent_workers=False)
    val['dataset'] = dict(
        type='CustomDataset',
        data_root=data_root,
        pipeline=val.dataset.pipeline)
    _walk(val['dataset']['pipeline'], _shrink_cls_pipeline)
    cfg.val_dataloader = val
    cfg.test_dataloader = copy.deepcopy(val)
    cfg.val_evaluator = cfg.get('val_evaluator') or base.val_evaluator
    cfg.test_evaluator = cfg.val_evaluator
    cfg.val_cfg, cfg.test_cfg = dict(), dict()
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.work_dir = work_dir
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    # iteration-based schedules (the CIFAR configs) run as they are
    cfg.log_level = 'WARNING'
    return cfg


class _Snapshot(Hook):
    """The model state right before the first training iteration (after
    the runner initialised the weights)."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if batch_idx == 0:
            self.state = {
                k: v.clone()
                for k, v in runner.model.state_dict().items()
            }


@pytest.mark.integration
@pytest.mark.parametrize('path', CLS, ids=[osp.basename(c) for c in CLS])
def test_cls_config_trains_and_evaluates(path, image_folder, tmp_path):
    cfg = tiny_cls_cfg(path, image_folder, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    model = runner.model
    frozen = model.backbone.frozen
    snapshot = _Snapshot()
    runner.register_hook(snapshot)
    runner.train()
    before = snapshot.state
    # one iteration: 4 images, batch 4
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert np.isfinite(loss) and loss > 0
    after = model.state_dict()
    backbone_changed = any(
        not torch.equal(before[k], after[k]) for k in after
        if k.startswith('backbone.') and after[k].is_floating_point())
    # a frozen probe never updates the backbone; fine-tuning does
    assert backbone_changed != frozen
    # Evaluation with a known answer: every classifier of the head says
    # 'dog' (class 1) whatever the features, and 2 of the 4 test images
    # are dogs.
    _constant_classifiers(model.head, torch.nn.Linear, label=1)
    metrics = runner.test()
    assert metrics['accuracy/top1'] == pytest.approx(50.)
    if cfg.model.head.type == 'PerLayerLinearClsHead':
        assert metrics['per_layer/best_top1'] == pytest.approx(50.)
        assert metrics['per_layer/best_layer'] == 0  # a tie: the first


def _constant_classifiers(head, layer_type, label: int) -> None:
    """Zero every ``layer_type`` layer of ``head`` except the bias of
    ``label``: the logits no longer depend on the input; argmax = label."""
    layers = [m for m in head.modules() if isinstance(m, layer_type)]
    assert layers
    with torch.no_grad():
        for m in layers:
            m.weight.zero_()
            m.bias.zero_()
            m.bias[label] = 1.


@pytest.fixture(scope='module')
def seg_folder(tmp_path_factory) -> str:
    """A CamVid-like folder: 2 train / 1 val 48x40 JPEGs with PNG labels
    (ids 0..4 and 255)."""
    root = tmp_path_factory.mktemp('seg')
    rng = np.random.default_rng(0)
    for split, n in (('train', 2), ('val', 1)):
        (root / 'images' / split).mkdir(parents=True)
        (root / 'annotations' / split).mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / 'images' / split / f'{i}.jpg')
            label = rng.integers(0, 5, (40, 48), dtype=np.uint8)
            label[:4] = 255
            Image.fromarray(label).save(
                root / 'annotations' / split / f'{i}.png')
    return str(root)


def tiny_seg_cfg(path: str, data_root: str, work_dir: str) -> Config:
    cfg = Config.fromfile(path)
    size = (32, 32)
    model = cfg.model
    model.data_preprocessor.size = size
    model.backbone.update(
        arch=TINY, img_size=32, patch_size=8, out_indices=[0, 1, 2, 3],
        init_cfg=None)
    model.neck.embed_dim = 32
    model.decode_head.update(in_channels=[32] * 4, channels=32, num_classes=5)
    model.auxiliary_head.update(in_channels=32, channels=16, num_classes=5)
    model.test_cfg = dict(mode='slide', crop_size=size, stride=(21, 21))
    cfg.optim_wrapper.paramwise_cfg.num_layers = TINY['num_layers']
    pipelines = dict(
        train=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomCrop', crop_size=size, cat_max_ratio=0.75),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackSegInputs')
        ],
        val=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    for key, split in (('train_dataloader', 'train'),
                       ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        loader = copy.deepcopy(cfg[key])
        loader.update(batch_size=2 if split == 'train' else 1,
                      num_workers=0, persistent_workers=False)
        loader['dataset'] = dict(
            type='BaseSegDataset',
            data_root=data_root,
            metainfo=dict(classes=tuple('abcde')),
            data_prefix=dict(
                img_path=f'images/{split}',
                seg_map_path=f'annotations/{split}'),
            img_suffix='.jpg',
            seg_map_suffix='.png',
            pipeline=pipelines[split])
        cfg[key] = loader
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1,
                         val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.work_dir = work_dir
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=100)
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.integration
@pytest.mark.parametrize('path', SEG, ids=[osp.basename(c) for c in SEG])
def test_seg_config_trains_and_evaluates(path, seg_folder, tmp_path):
    pytest.importorskip('mmseg')
    cfg = tiny_seg_cfg(path, seg_folder, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    snapshot = _Snapshot()
    runner.register_hook(snapshot)
    runner.train()
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert np.isfinite(loss) and loss > 0
    after = runner.model.state_dict()
    assert not torch.equal(snapshot.state['backbone.cls_token'],
                           after['backbone.cls_token'])
    # Evaluation with a known answer: the decode head says class 3 at every
    # pixel, so aAcc is the share of valid label pixels that are 3, IoU(3)
    # the same share and every other class's IoU 0 (all 5 occur).
    _constant_classifiers(runner.model.decode_head.conv_seg, torch.nn.Conv2d,
                          label=3)
    metrics = runner.test()
    label = np.asarray(
        Image.open(osp.join(seg_folder, 'annotations', 'val', '0.png')))
    valid = label[label != 255]
    assert set(np.unique(valid)) == {0, 1, 2, 3, 4}
    share = 100. * (valid == 3).mean()
    assert metrics['aAcc'] == pytest.approx(round(share, 2))
    assert metrics['mIoU'] == pytest.approx(round(share / 5, 2))
