# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Plot loss curves and codebook usage from mmengine's ``scalars.json``.

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/
scalars.json``: one JSON object per line, train lines keyed by ``step`` =
iteration, val lines by ``step`` = epoch (or iteration for iter-based loops).
The reading and plotting live in ``mmbeitv2.demo.scalars``.

Examples::

    # loss curves of one or more runs (a work dir or a scalars.json each)
    python tools/analysis_tools/plot_logs.py curves \\
        work_dirs/demo/vqkd work_dirs/demo/pretrain \\
        --keys loss_rec loss_mim acc_mim --out curves.png

    # codebook usage: a histogram of code counts (.npy / .json list) and,
    # if the run logged it, the usage curve
    python tools/analysis_tools/plot_logs.py codebook \\
        --counts work_dirs/demo/codebook_counts.npy \\
        --scalars work_dirs/demo/vqkd --out codebook_usage.png
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

import numpy as np

from mmbeitv2.demo.scalars import plot_codebook, plot_curves


def load_counts(path: str) -> np.ndarray:
    """Code counts (K,) from ``.npy`` or a JSON list."""
    if path.endswith('.npy'):
        return np.load(path)
    with open(path) as f:
        return np.asarray(json.load(f))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('curves', help='scalar curves of one or more runs')
    c.add_argument('runs', nargs='+', help='work dirs or scalars.json')
    c.add_argument('--labels', nargs='+', help='one label per run')
    c.add_argument('--keys', nargs='+', default=['loss'])
    c.add_argument('--out', required=True)
    c.add_argument('--title', default='')
    b = sub.add_parser('codebook', help='code-count histogram + usage curve')
    b.add_argument('--counts', required=True, help='.npy or .json (K,)')
    b.add_argument('--scalars', help='tokenizer work dir or scalars.json')
    b.add_argument('--out', required=True)
    b.add_argument('--title', default='')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.cmd == 'curves':
        labels = args.labels or [osp.basename(osp.normpath(r))
                                 for r in args.runs]
        if len(labels) != len(args.runs):
            raise SystemExit('--labels needs one label per run')
        keys = plot_curves(dict(zip(labels, args.runs)), args.keys,
                           args.out, args.title)
        if not keys:
            raise SystemExit(f'none of {args.keys} was logged in {args.runs}')
        print(f'wrote {args.out} ({", ".join(keys)})')
    else:
        stats = plot_codebook(load_counts(args.counts), args.out,
                              args.scalars, title=args.title)
        print(f'wrote {args.out}: {stats}')


if __name__ == '__main__':
    main()
