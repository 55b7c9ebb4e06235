# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``mmbeitv2.apis``: get_model, extract_features, classify on a tiny
fine-tune config written in tmp_path."""
import numpy as np
import pytest
import torch
from PIL import Image
from tiny_models import random_model_file

from mmbeitv2.apis import classify, extract_features, get_model
from mmbeitv2.apis.inference import ImagePipeline, Normalize

CONFIG = """
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(mean=[120., 110., 100.], std=[60., 50., 40.],
                           to_rgb=True),
    backbone=dict(
        type='BEiTv2ViT',
        arch=dict(embed_dims=32, num_layers=3, num_heads=2,
                  feedforward_channels=64),
        img_size=32, patch_size=8, out_type='avg_featmap',
        use_rel_pos_bias=True, use_shared_rel_pos_bias=False),
    head=dict(type='LinearClsHead', num_classes=4, in_channels=32))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=37, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
test_dataloader = dict(dataset=dict(type='CustomDataset',
                                    pipeline=test_pipeline))
"""
CLASSES = ['cat', 'dog', 'owl', 'eel']


@pytest.fixture
def tiny(tmp_path):
    cfg = tmp_path / 'tiny_ft.py'
    model = random_model_file(CONFIG, cfg)
    ckpt = tmp_path / 'ft.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))),
               str(ckpt))
    rng = np.random.default_rng(0)
    paths = []
    for i, size in enumerate([(40, 48), (64, 50), (32, 32)]):
        p = tmp_path / f'img{i}.png'
        Image.fromarray(rng.integers(0, 255, (*size, 3),
                                     dtype=np.uint8)).save(p)
        paths.append(str(p))
    return str(cfg), str(ckpt), paths


def _by_hand(model, path):
    """The test pipeline and normalisation spelled out."""
    with Image.open(path) as img:
        rgb = img.convert('RGB')
    w, h = rgb.size
    s = 37 / min(w, h)
    rgb = rgb.resize((round(w * s), round(h * s)), Image.BICUBIC)
    w, h = rgb.size
    left, top = round((w - 32) / 2), round((h - 32) / 2)  # as mmcv
    x = torch.from_numpy(np.asarray(rgb.crop((left, top, left + 32,
                                              top + 32))).copy()).float()
    x = x.permute(2, 0, 1)[None]  # (1, 3, 32, 32) RGB
    mean = torch.tensor([120., 110., 100.]).view(1, 3, 1, 1)
    std = torch.tensor([60., 50., 40.]).view(1, 3, 1, 1)
    return (x - mean) / std


def test_features_match_the_model(tiny):
    cfg, ckpt, paths = tiny
    model = get_model(cfg, ckpt)
    assert model.dataset_meta['classes'] == CLASSES
    x = torch.cat([_by_hand(model, p) for p in paths])
    with torch.no_grad():
        pooled = model.backbone(x)[0]
    feats = extract_features(model, paths, kind='mean', batch_size=2)
    torch.testing.assert_close(feats, pooled, atol=1e-4, rtol=1e-4)
    # PIL images and RGB arrays give the same features as paths
    pil = [Image.open(p).convert('RGB') for p in paths]
    torch.testing.assert_close(extract_features(model, pil, kind='mean'),
                               feats, atol=1e-5, rtol=1e-5)
    arr = np.asarray(pil[0])
    torch.testing.assert_close(extract_features(model, arr, kind='mean'),
                               feats[:1], atol=1e-5, rtol=1e-5)
    # tensors are taken as normalised inputs
    torch.testing.assert_close(extract_features(model, x, kind='mean'),
                               pooled, atol=1e-6, rtol=1e-6)


def test_feature_kinds(tiny):
    cfg, ckpt, paths = tiny
    model = get_model(cfg, ckpt)
    x = torch.randn(2, 3, 32, 32)
    model.backbone.out_type, model.backbone.out_indices = 'raw', [0, 1, 2]
    with torch.no_grad():
        raw = model.backbone(x)
    model.backbone.out_type, model.backbone.out_indices = 'avg_featmap', [2]
    cls = extract_features(model, x, 'cls')
    patch = extract_features(model, x, 'patch')
    layers = extract_features(model, x, 'layers')
    assert cls.shape == (2, 32) and patch.shape == (2, 16, 32)
    assert layers.shape == (2, 3, 32)
    torch.testing.assert_close(cls, raw[2][:, 0])
    torch.testing.assert_close(patch, raw[2][:, 1:])
    torch.testing.assert_close(layers[:, 0], raw[0][:, 0])
    # the backbone's own output type is restored
    assert model.backbone.out_type == 'avg_featmap'
    with pytest.raises(ValueError, match='unknown feature kind'):
        extract_features(model, x, 'pixels')


def test_classify_names_classes(tiny):
    cfg, ckpt, paths = tiny
    model = get_model(cfg, ckpt)
    res = classify(model, paths, topk=3)
    assert len(res) == 3 and all(len(r) == 3 for r in res)
    x = torch.cat([_by_hand(model, p) for p in paths])
    with torch.no_grad():
        probs = model.head.fc(model.backbone(x)[0]).softmax(-1)
    for r, p in zip(res, probs):
        assert [d['label'] for d in r] == p.argsort(descending=True)[
            :3].tolist()
        assert abs(r[0]['score'] - p.max().item()) < 1e-4
        assert r[0]['class'] == CLASSES[r[0]['label']]


def test_normalize_and_pipeline_units():
    norm = Normalize(dict(mean=[1., 2., 3.], std=[2., 2., 2.], to_rgb=True))
    x = torch.zeros(1, 3, 2, 2)
    x[:, 0] = 5.  # B of BGR
    out = norm(x)
    assert out[0, 2, 0, 0] == 1. and out[0, 0, 0, 0] == -0.5
    pipe = ImagePipeline([dict(type='LoadImageFromFile'),
                          dict(type='PackInputs')])
    arr = np.zeros((4, 5, 3), dtype=np.uint8)
    arr[..., 0] = 200  # red
    t = pipe(arr)
    assert t.shape == (3, 4, 5) and t[2].max() == 200  # BGR: red last
