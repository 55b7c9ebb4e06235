# Copyright (c) mmbeitv2 contributors. All rights reserved.
import json
import math
import os.path as osp
import sys

import numpy as np
import pytest
from PIL import Image

from subprocess_utils import run
from mmbeitv2.errors import UserInputError
from mmbeitv2.utils import register_all_modules

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TOOL = ['-m', 'benchmarks.compare_views']  # run from ROOT


def _load_tool():
    from benchmarks import compare_views
    return compare_views


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    """Three textured JPEGs (one wide, one tall, one square)."""
    root = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(240, 320), (300, 200), (256, 256)]):
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([x * 0.7, y * 0.9, (x + y) * 0.4], -1)
        img = np.clip(img + rng.normal(0, 30, img.shape), 0, 255)
        Image.fromarray(img.astype(np.uint8)).save(
            str(root / f'p{i}.jpg'), quality=90)
    return str(root)


def _tool_and_paths(folder):
    register_all_modules()
    tool = _load_tool()
    return tool, tool.list_images(folder)


def test_new_views_are_official_and_old_are_not(folder):
    tool, paths = _tool_and_paths(folder)
    views = tool.compare_views(paths, crops=12, seed=0)
    assert math.isinf(views['new_model']['worst'])
    assert math.isinf(views['new_tokenizer']['worst'])
    # cv2 resizing without antialiasing: far from PIL on shrinking crops
    assert views['old_same_pixels']['median'] < 45
    assert views['old_same_pixels']['mean_abs'] > 0.5
    jitter = tool.compare_jitter(paths, draws=6, seed=0)
    assert jitter['max_abs_new'] == jitter['max_abs_old'] == 0


def test_vqkd_and_finetune_sections(folder):
    tool, paths = _tool_and_paths(folder)
    vqkd = tool.compare_vqkd(paths, crops=4, seed=0)
    assert math.isinf(vqkd['train_pillow']['worst'])
    assert math.isinf(vqkd['eval_pillow']['worst'])
    ft = tool.compare_finetune(paths, seed=0)
    ops = ft['randaugment']
    assert len(ops) == 15
    assert math.isinf(ops['Invert / Invert']['worst'])
    # mirrored correctly: a wrong direction would be far below 30 dB
    assert ops['Rotate / Rotate']['median'] > 30
    assert 0.9 < ft['erasing_fill']['std'] < 1.0  # clipped N(0, 1)


def test_decode_variants(folder):
    tool = _load_tool()
    variants = tool.compare_decode(tool.list_images(folder))['variants']
    assert math.isinf(variants['cmyk_pillow']['psnr'])
    assert math.isinf(variants['exif_orientation_pillow']['psnr'])
    # cv2 applies the EXIF rotation, the official PIL loader does not
    exif = variants['exif_orientation_cv2']
    assert exif['psnr'] is None
    assert exif['shape'][:2] == exif['official_shape'][1::-1]


def test_empty_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match='no \\*.jpg'):
        _load_tool().list_images(str(tmp_path))


@pytest.mark.integration
def test_cli_with_throughput(folder, tmp_path):
    out = tmp_path / 'r.json'
    proc = run([
        sys.executable, *TOOL, folder, '--crops', '3', '--throughput',
        '--throughput-images', '6', '--repeats', '1', '--out',
        str(out)
    ], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert 'new_model        exact / exact' in proc.stdout
    result = json.loads(out.read_text())
    assert set(result['throughput']) == {'new', 'old'}
    assert all(v['median'] > 0 for v in result['throughput'].values())
    proc = run([sys.executable, *TOOL, str(tmp_path / 'none')],
               capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: no *.jpg')
