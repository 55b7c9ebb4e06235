# Copyright (c) mmbeitv2 contributors. All rights reserved.
import importlib.util
import os.path as osp
import sys

import numpy as np
from PIL import Image

from test_get_tokens import setup  # noqa: F401  (pytest fixture)

ROOT = osp.join(osp.dirname(__file__), '..', '..')


def test_visualize_codebook(setup, tmp_path, monkeypatch, capsys):  # noqa
    cfg, ckpt, paths, model = setup
    data = tmp_path / 'imgs' / 'cls'
    data.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3),
                                     dtype=np.uint8)).save(data / f'{i}.png')
    path = osp.join(ROOT, 'tools', 'analysis_tools', 'visualize_codebook.py')
    spec = importlib.util.spec_from_file_location('vis_codebook', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path / 'grid.png')
    monkeypatch.setattr(sys, 'argv', [
        'visualize_codebook.py', cfg, ckpt, '--data',
        str(tmp_path / 'imgs'), '--out', out, '--num-codes', '3',
        '--per-code', '4'
    ])
    tool.main()
    grid = np.asarray(Image.open(out))
    # 3 rows x 4 cells of (8 px patch + 2 x 6 px context + 2 px gap),
    # zoom 4.
    assert grid.shape == (3 * 22 * 4, 4 * 22 * 4, 3)
    # The first cell's frame is red, its patch shows the image.
    assert tuple(grid[4 * (1 + 5), 4 * (1 + 8)]) == (255, 0, 0)
    hist = Image.open(str(tmp_path / 'grid_hist.png'))
    assert hist.size[0] > 100
    printed = capsys.readouterr().out
    assert '6 images; K=16; usage' in printed
