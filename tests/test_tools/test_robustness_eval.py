# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``tools/analysis_tools/robustness_eval.py`` and ``tools/test.py
--test-set`` on tiny fake copies of ImageNet-A/-R/-V2/-Sketch/val (real
folder layouts, 40x40 JPEGs) with the tiny fine-tune config of
``tests/data/configs``.

The constructed model has a zero classifier weight, so every image gets the
logits ``BIAS``: the unrestricted top-5 are 5 classes outside ImageNet-A and
-R, so only the 200-class restriction can score on those sets.
"""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image
from test_beitv2_converter import official_finetune_sd

from tool_loader import load_tool
from mmbeitv2.datasets.imagenet_variants import (IMAGENET_A_INDICES,
                                                 IMAGENET_R_INDICES,
                                                 IMAGENET_WNIDS)
from mmbeitv2.cli import apply_test_set
from mmbeitv2.engine import build_runner
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

REPO = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = osp.join(REPO, 'tests', 'data', 'configs',
                  'vit-4x64-p8_beitv2-ft_in1k-32px.py')
FRAGMENTS = osp.join(REPO, 'configs', '_base_', 'datasets', 'robustness')

A, R = IMAGENET_A_INDICES, IMAGENET_R_INDICES
OUTSIDE = [i for i in range(1000) if i not in A and i not in R][:5]
BIAS = torch.zeros(1000)
BIAS[OUTSIDE] = torch.tensor([10., 9., 8., 7., 6.])
BIAS[A[0]], BIAS[A[1]] = 5., 4.  # A[0] = 6, A[1] = 11
BIAS[R[0]], BIAS[R[2]] = 3.5, 3.  # R[0] = 1, R[2] = 4
BIAS[R[1]] = -1.  # R[1] = 2: below the many classes at 0, never in a top-5

# set -> {class folder: number of images}
LAYOUT = {
    'imagenet-a': {IMAGENET_WNIDS[A[0]]: 2, IMAGENET_WNIDS[A[1]]: 1},
    # A[0] = 6 is an R class too: it outranks R[0] inside the R subset
    'imagenet-r': {IMAGENET_WNIDS[R[0]]: 1, IMAGENET_WNIDS[A[0]]: 1,
                   IMAGENET_WNIDS[R[1]]: 2},
    # '0' < '10' < '9' as strings: a rank-labelled ImageFolder breaks
    'imagenet-v2': {str(OUTSIDE[0]): 2, '10': 1, '9': 1},
    'imagenet-sketch': {IMAGENET_WNIDS[OUTSIDE[0]]: 1,
                        IMAGENET_WNIDS[A[0]]: 2},
    'imagenet/val': {IMAGENET_WNIDS[OUTSIDE[1]]: 2},
}


def expected(labels, subset=None):
    """(top-1, top-5) in % of the constant scores BIAS, restricted to
    ``subset`` (ImageNet-1k indices) when given."""
    subset = list(range(1000)) if subset is None else subset
    order = [subset[i] for i in BIAS[subset].argsort(descending=True)]
    top1 = np.mean([label == order[0] for label in labels]) * 100
    top5 = np.mean([label in order[:5] for label in labels]) * 100
    return top1, top5


def labels_of(layout, index_folders=False):
    wnid_to_index = {w: i for i, w in enumerate(IMAGENET_WNIDS)}
    labels = []
    for folder, count in layout.items():
        label = int(folder) if index_folders else wnid_to_index[folder]
        labels += [label] * count
    return labels


def make_root(root, sets):
    rng = np.random.default_rng(0)
    for name in sets:
        for folder, count in LAYOUT[name].items():
            path = root / name / folder
            path.mkdir(parents=True)
            for i in range(count):
                arr = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
                Image.fromarray(arr).save(path / f'img{i}.JPEG')
    return str(root)


def load_robustness_tool():
    return load_tool('analysis_tools/robustness_eval.py')


@pytest.fixture(scope='module')
def constant_ckpt(tmp_path_factory):
    """The tiny classifier with weight 0 and bias BIAS."""
    register_all_modules()
    model = MODELS.build(Config.fromfile(CONFIG).model)
    with torch.no_grad():
        model.head.fc.weight.zero_()
        model.head.fc.bias.copy_(BIAS)
    path = tmp_path_factory.mktemp('ckpt') / 'constant.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


@pytest.mark.integration
def test_restriction_decides_the_imagenet_a_score(tmp_path, constant_ckpt):
    """ImageNet-A through the ``--test-set`` machinery and a real runner,
    with and without the 200-class restriction."""
    root = make_root(tmp_path, ['imagenet-a'])
    for restricted in (True, False):
        cfg = Config.fromfile(CONFIG)
        cfg.work_dir = str(tmp_path / f'work{restricted}')
        cfg.load_from = constant_ckpt
        cfg.log_level = 'WARNING'
        apply_test_set(cfg, osp.join(FRAGMENTS, 'imagenet_a.py'),
                       data_root=osp.join(root, 'imagenet-a'))
        if not restricted:
            cfg.test_evaluator = dict(type='Accuracy', topk=(1, 5))
        metrics = build_runner(cfg).test()
        labels = labels_of(LAYOUT['imagenet-a'])
        want = expected(labels, A if restricted else None)
        got = (metrics['accuracy/top1'], metrics['accuracy/top5'])
        assert got == pytest.approx(want, abs=1e-3)
        # 2 of 3 images are A[0], the best A class; all in the A top-5
        assert want == pytest.approx((200 / 3, 100.) if restricted else
                                     (0., 0.))


@pytest.mark.integration
def test_command_prints_table_and_lists_missing_set(tmp_path, constant_ckpt,
                                                    capsys):
    sets = ['imagenet-a', 'imagenet-r', 'imagenet-v2', 'imagenet/val']
    root = make_root(tmp_path / 'data', sets)  # no imagenet-sketch
    work_dir = str(tmp_path / 'work')
    out = load_robustness_tool().main([
        CONFIG, constant_ckpt, '--root', root, '--work-dir', work_dir,
        '--quiet'
    ])
    table = capsys.readouterr().out
    print(table)
    res = out['results']
    assert set(res) == {'imagenet', 'imagenet-a', 'imagenet-r',
                        'imagenet-v2'}
    assert 'imagenet-sketch' in out['not_evaluated']
    assert 'not evaluated: ImageNet-Sketch (missing: ' in table
    want = {
        'imagenet-a': expected(labels_of(LAYOUT['imagenet-a']), A),
        'imagenet-r': expected(labels_of(LAYOUT['imagenet-r']), R),
        'imagenet-v2': expected(
            labels_of(LAYOUT['imagenet-v2'], index_folders=True)),
        'imagenet': expected(labels_of(LAYOUT['imagenet/val'])),
    }
    for name, (top1, top5) in want.items():
        assert (res[name]['top1'], res[name]['top5']) == pytest.approx(
            (top1, top5), abs=1e-3), name
    # folder '0' is the arg-max class 0, '10' the 5th of the top-5 and '9'
    # outside it; labels by folder rank (0, 1, 2) would give 50, 50
    assert OUTSIDE == [0, 3, 5, 7, 10]
    assert want['imagenet-v2'] == pytest.approx((50., 75.))
    assert res['imagenet-r']['classes'] == 200
    assert res['imagenet-v2']['images'] == 4
    mean1 = np.mean([want[n][0] for n in ('imagenet-a', 'imagenet-r',
                                          'imagenet-v2')])
    assert f'| mean over shifts (3 of 4) | | | {mean1:.2f} |' in table
    assert f'| ImageNet-A | 3 | 200 | {200 / 3:.2f} | 100.00 |' in table
    saved = json.load(open(osp.join(work_dir, 'robustness.json')))
    assert saved['results']['imagenet-a']['top1'] == pytest.approx(200 / 3)


@pytest.mark.integration
def test_sketch_is_1000_way_and_bad_layout_is_skipped(tmp_path,
                                                      constant_ckpt):
    root = make_root(tmp_path / 'data', ['imagenet-sketch', 'imagenet-a'])
    # a class that is not in ImageNet-A: the set is skipped, not fatal
    (tmp_path / 'data' / 'imagenet-a' / IMAGENET_WNIDS[OUTSIDE[0]]).mkdir()
    out = load_robustness_tool().main([
        CONFIG, constant_ckpt, '--root', root, '--work-dir',
        str(tmp_path / 'work'), '--quiet', '--sets', 'imagenet-a',
        'imagenet-sketch'
    ])
    sketch = out['results']['imagenet-sketch']
    # class OUTSIDE[0] (in neither A nor R) is predicted and counts
    assert (sketch['top1'], sketch['top5']) == pytest.approx(
        expected(labels_of(LAYOUT['imagenet-sketch'])))
    assert sketch['top1'] == pytest.approx(100 / 3)
    assert sketch['classes'] == 1000
    assert out['not_evaluated']['imagenet-a'].startswith('skipped: ')
    assert IMAGENET_WNIDS[OUTSIDE[0]] in out['not_evaluated']['imagenet-a']


@pytest.mark.integration
def test_converted_official_finetune_checkpoint_end_to_end(tmp_path):
    """An official fine-tune layout file (random weights, 1000 classes),
    converted by the converter tool, evaluated on every fake set. Its head
    is BIAS plus a small random projection of the (random) features, so
    the scores follow the official class order through the conversion."""
    src, dst = tmp_path / 'official_ft.pth', tmp_path / 'mm_ft.pth'
    official = official_finetune_sd(num_classes=1000)
    official['head.weight'] *= 1e-4  # |w . x| << 0.5, the gaps of BIAS
    official['head.bias'] = BIAS.clone()
    torch.save({'model': official}, src)
    spec = importlib.util.spec_from_file_location(
        'conv',
        osp.join(REPO, 'tools', 'model_converters',
                 'beitv2_unilm_to_mmbeitv2.py'))
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    conv.main([str(src), str(dst)])
    root = make_root(tmp_path / 'data', list(LAYOUT))
    out = load_robustness_tool().main([
        CONFIG,
        str(dst), '--root', root, '--work-dir',
        str(tmp_path / 'work'), '--quiet'
    ])
    assert set(out['results']) == {
        'imagenet', 'imagenet-a', 'imagenet-r', 'imagenet-v2',
        'imagenet-sketch'
    }
    assert not out['not_evaluated']
    for name, subset in (('imagenet-a', A), ('imagenet-r', R),
                         ('imagenet-sketch', None), ('imagenet', None)):
        folders = 'imagenet/val' if name == 'imagenet' else name
        res = out['results'][name]
        assert (res['top1'], res['top5']) == pytest.approx(
            expected(labels_of(LAYOUT[folders]), subset)), name
    res = out['results']['imagenet-v2']
    assert (res['top1'], res['top5']) == pytest.approx((50., 75.))


@pytest.mark.integration
def test_test_py_test_set_option(tmp_path, constant_ckpt):
    root = make_root(tmp_path, ['imagenet-v2'])
    spec = importlib.util.spec_from_file_location(
        'test_tool', osp.join(REPO, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    metrics = tool.main([
        CONFIG, constant_ckpt, '--work-dir',
        str(tmp_path / 'work'), '--test-set',
        osp.join(FRAGMENTS, 'imagenet_v2.py'), '--cfg-options',
        f'test_dataloader.dataset.data_root={root}/imagenet-v2',
        'log_level=WARNING'
    ])
    assert metrics['accuracy/top1'] == pytest.approx(50.)
