# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Read, summarise and plot mmengine's ``scalars.json`` (the demo's loss
curves and codebook usage; the command line is
``tools/analysis_tools/plot_logs.py``).

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/
scalars.json``: one JSON object per line, train lines keyed by ``step`` =
iteration, val lines by ``step`` = epoch (or iteration for iter-based loops).
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np


def find_scalars(path: str) -> Optional[str]:
    """``path`` itself if it is a file, else the newest
    ``<path>/*/vis_data/scalars.json`` (None if there is none)."""
    if osp.isfile(path):
        return path
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    # Timestamps sort lexically; a resumed run writes a newer folder, so
    # read every folder in order and let the newest win on overlaps.
    return files[-1] if files else None


def load_scalars(path: str) -> List[Dict]:
    """All records of a run, oldest folder first (resumed runs included).

    Args:
        path (str): A ``scalars.json`` or a work dir.

    Returns:
        list[dict]: One dict per logged line, with ``_mode`` set to
        ``'val'`` for lines that carry no ``lr`` (mmengine logs ``lr`` on
        every train line, never on val lines).
    """
    if osp.isfile(path):
        files = [path]
    else:
        files = sorted(
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    records = []
    for file in files:
        with open(file) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                rec = json.loads(line)
                rec['_mode'] = 'train' if 'lr' in rec else 'val'
                records.append(rec)
    return records


def series(records: Sequence[Dict], key: str,
           mode: Optional[str] = None) -> tuple:
    """(steps, values) of ``key``; later records override earlier ones at
    the same step (a resumed run re-logs some steps)."""
    points = {}
    for rec in records:
        if key in rec and (mode is None or rec['_mode'] == mode):
            points[rec.get('step', len(points))] = float(rec[key])
    steps = sorted(points)
    return np.array(steps), np.array([points[s] for s in steps])


def last_value(records: Sequence[Dict], key: str,
               mode: Optional[str] = None,
               window: int = 1) -> Optional[float]:
    """Mean of the last ``window`` logged values of ``key`` (None if never
    logged)."""
    _, values = series(records, key, mode)
    if len(values) == 0:
        return None
    return float(values[-window:].mean())


def plot_curves(runs: Dict[str, str], keys: Sequence[str], out: str,
                title: str = '') -> List[str]:
    """One subplot per key that at least one run logged.

    Args:
        runs (dict[str, str]): Label -> work dir or scalars.json.
        keys (Sequence[str]): Scalar names (e.g. ``loss_rec``).
        out (str): Output PNG.
        title (str): Figure title. Defaults to ''.

    Returns:
        list[str]: The keys that were plotted.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    data = {label: load_scalars(p) for label, p in runs.items()}
    present = [k for k in keys
               if any(len(series(r, k)[0]) for r in data.values())]
    if not present:
        return []
    ncol = min(3, len(present))
    nrow = (len(present) + ncol - 1) // ncol
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, key in zip(axes.flat, present):
        for label, recs in data.items():
            for mode, style in (('train', '-'), ('val', 'o--')):
                x, y = series(recs, key, mode)
                if len(x):
                    ax.plot(x, y, style, ms=3, label=f'{label} ({mode})')
        ax.set_title(key)
        ax.set_xlabel('step (train: iter, val: epoch)')
        ax.grid(alpha=.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(present):]:
        ax.axis('off')
    _save(fig, out, title)
    return present


def plot_lines(lines: Dict[str, tuple], out: str, title: str = '',
               xlabel: str = 'iteration', ylabel: str = '') -> List[str]:
    """Several (steps, values) series on one axis (e.g. an accuracy and
    its baseline).

    Args:
        lines (dict[str, tuple]): Label -> (steps, values); empty series
            are left out.
        out (str): Output PNG.
        title (str): Axis title. Defaults to ''.
        xlabel (str): Defaults to 'iteration'.
        ylabel (str): Defaults to ''.

    Returns:
        list[str]: The labels that were plotted (nothing is written when
        none has a value).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    present = [k for k, (x, _) in lines.items() if len(x)]
    if not present:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label in present:
        x, y = lines[label]
        ax.plot(x, y, 'o-' if len(x) < 30 else '-', ms=4, label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return present


def plot_codebook(counts: np.ndarray, out: str,
                  scalars: Optional[str] = None,
                  usage_keys: Sequence[str] = ('codebook_usage',
                                               'perplexity'),
                  title: str = '') -> Dict[str, float]:
    """Histogram of code use (codes sorted by count) plus the logged usage
    curve when ``scalars`` has one.

    Args:
        counts (np.ndarray): (K,) number of times each code was assigned.
        out (str): Output PNG.
        scalars (str, optional): Work dir or scalars.json of the tokenizer
            run. Defaults to None.
        usage_keys (Sequence[str]): Logged keys to plot next to the
            histogram. Defaults to ``('codebook_usage', 'perplexity')``.
        title (str): Figure title. Defaults to ''.

    Returns:
        dict: ``K``, ``used``, ``usage`` (share of codes used >= once) and
        ``perplexity`` (exp of the entropy of the code histogram).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    counts = np.asarray(counts, dtype=np.float64)
    stats = codebook_stats(counts)
    recs = load_scalars(scalars) if scalars else []
    curves = [k for k in usage_keys if len(series(recs, k)[0])]
    fig, axes = plt.subplots(
        1, 1 + len(curves), figsize=(5 * (1 + len(curves)), 3.4),
        squeeze=False)
    ax = axes[0, 0]
    ax.bar(np.arange(len(counts)), np.sort(counts)[::-1], width=1.0)
    ax.set_yscale('symlog')
    ax.set_xlabel('code (sorted by count)')
    ax.set_ylabel('assignments on val')
    ax.set_title(f"K={stats['K']}: {stats['used']} used "
                 f"({100 * stats['usage']:.1f}%), "
                 f"perplexity {stats['perplexity']:.0f}")
    for ax, key in zip(axes[0, 1:], curves):
        for mode, style in (('train', '-'), ('val', 'o--')):
            x, y = series(recs, key, mode)
            if len(x):
                ax.plot(x, y, style, ms=3, label=mode)
        ax.set_title(key)
        ax.grid(alpha=.3)
        ax.legend(fontsize=7)
    _save(fig, out, title)
    return stats


def _save(fig, out: str, title=None) -> None:
    """Title, tight layout, write ``out`` and free the figure."""
    import matplotlib.pyplot as plt
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def codebook_stats(counts: np.ndarray) -> Dict[str, float]:
    """Usage (share of codes used at least once) and perplexity."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / max(counts.sum(), 1)
    nz = p[p > 0]
    return dict(
        K=int(len(counts)),
        used=int((counts > 0).sum()),
        usage=float((counts > 0).mean()),
        perplexity=float(np.exp(-(nz * np.log(nz)).sum())))
