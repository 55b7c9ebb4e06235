# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2.demo.scalars and tools/analysis_tools/plot_logs.py on
synthetic mmengine scalars."""
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
from tool_loader import load_tool

from mmbeitv2.demo import scalars

plot_logs = load_tool('analysis_tools/plot_logs.py')


def _write_run(work_dir: str, stamp: str, lines: list) -> None:
    d = osp.join(work_dir, stamp, 'vis_data')
    os.makedirs(d)
    with open(osp.join(d, 'scalars.json'), 'w') as f:
        for rec in lines:
            f.write(json.dumps(rec) + '\n')


@pytest.fixture
def run_dir(tmp_path):
    w = str(tmp_path / 'vqkd')
    # first run: iters 10, 20 then a val line at epoch 1
    _write_run(w, '20260101_000000', [
        dict(lr=1e-3, loss_rec=0.9, step=10),
        dict(lr=1e-3, loss_rec=0.8, step=20),
        {'codebook/usage': 50.0, 'step': 1},
    ])
    # resumed run re-logs iter 20 and goes on
    _write_run(w, '20260101_010000', [
        dict(lr=1e-3, loss_rec=0.7, step=20),
        dict(lr=1e-3, loss_rec=0.5, step=30),
        {'codebook/usage': 90.0, 'step': 2},
    ])
    return w


def test_series_merges_resumed_runs(run_dir):
    recs = scalars.load_scalars(run_dir)
    assert len(recs) == 6
    steps, values = scalars.series(recs, 'loss_rec', 'train')
    assert steps.tolist() == [10, 20, 30]
    assert values.tolist() == [0.9, 0.7, 0.5]  # the newer run wins at 20
    assert scalars.last_value(recs, 'loss_rec', 'train') == 0.5
    assert scalars.last_value(recs, 'loss_rec', window=2) == \
        pytest.approx(0.6)
    assert scalars.last_value(recs, 'codebook/usage', 'val') == 90.0
    assert scalars.last_value(recs, 'missing') is None
    # a scalars.json path works as well as the work dir
    one = scalars.find_scalars(run_dir)
    assert one.endswith(osp.join('20260101_010000', 'vis_data',
                                 'scalars.json'))
    assert len(scalars.load_scalars(one)) == 3


def test_codebook_stats_numbers():
    counts = np.array([2, 2, 0, 0])
    stats = scalars.codebook_stats(counts)
    assert stats == dict(K=4, used=2, usage=0.5,
                         perplexity=pytest.approx(2.0))
    uniform = scalars.codebook_stats(np.ones(1024))
    assert uniform['usage'] == 1.0
    assert uniform['perplexity'] == pytest.approx(1024)
    skew = scalars.codebook_stats(np.array([3, 1]))
    p = np.array([.75, .25])
    assert skew['perplexity'] == pytest.approx(
        math.exp(-(p * np.log(p)).sum()))


def test_pngs_are_written(run_dir, tmp_path):
    out = str(tmp_path / 'curves.png')
    keys = scalars.plot_curves({'vqkd': run_dir},
                               ['loss_rec', 'codebook/usage', 'absent'],
                               out)
    assert keys == ['loss_rec', 'codebook/usage']
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert scalars.plot_curves({'vqkd': run_dir}, ['absent'],
                               str(tmp_path / 'none.png')) == []
    assert not osp.exists(tmp_path / 'none.png')
    out = str(tmp_path / 'codebook.png')
    stats = scalars.plot_codebook(
        np.array([5, 0, 1, 0]), out, run_dir,
        usage_keys=('codebook/usage', ))
    assert stats['used'] == 2 and osp.getsize(out) > 1000


def test_cli(run_dir, tmp_path):
    counts = str(tmp_path / 'counts.json')
    with open(counts, 'w') as f:
        json.dump([1, 0, 3], f)
    plot_logs.main(['codebook', '--counts', counts, '--out',
                    str(tmp_path / 'c.png')])
    plot_logs.main(['curves', run_dir, '--keys', 'loss_rec', '--out',
                    str(tmp_path / 'l.png')])
    assert osp.isfile(tmp_path / 'c.png') and osp.isfile(tmp_path / 'l.png')
    with pytest.raises(SystemExit):
        plot_logs.main(['curves', run_dir, '--keys', 'nope', '--out',
                        str(tmp_path / 'x.png')])
