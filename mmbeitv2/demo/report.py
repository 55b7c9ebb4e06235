# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The results table and PNGs of ``tools/run_demo.py``.

Reads what the stages left in the work dir (mmengine ``scalars.json`` of
each run, the token dump of the ``codebook`` stage, ``timings.json``) and
writes ``results.json``, ``results.md``, ``loss_curves.png``,
``codebook_usage.png``, ``codebook_grid.png`` (through the tokenizer's
``visualize_codebook.py`` when it is there), ``data_samples.png`` and the
pictures of :mod:`mmbeitv2.demo.pictures` (token maps, nearest neighbours,
probe bars).
"""
import json
import os.path as osp
import pickle
import subprocess
import sys
from typing import Dict, List, Optional

import numpy as np

from . import scalars
from .pictures import (NN_QUERIES, class_name, nearest_neighbours,
                       probe_bars, token_maps)

PROBE_NAMES = dict(probe='BEiT v2', probe_random='random init',
                   probe_teacher='teacher', probe_mae='MAE')

CURVE_KEYS = ('loss_rec', 'loss_commit', 'batch_code_usage', 'loss_mim',
              'loss_mim_agg', 'acc_mim', 'acc_mim_agg', 'acc_mim_majority',
              'loss', 'accuracy/top1')


def token_counts(pkl: str, num_embed: int) -> Dict:
    """Code histogram and mean 1 - cos of the ``tools/test.py --out`` dump
    of :meth:`VQKDTokenizer.predict`."""
    with open(pkl, 'rb') as f:  # our own file, written by tools/test.py
        preds = pickle.load(f)
    counts = np.zeros(num_embed, dtype=np.int64)
    dists = []
    for p in preds:
        tokens = np.asarray(p['tokens']).reshape(-1)
        counts += np.bincount(tokens, minlength=num_embed)
        if 'rec_cos_distance' in p:
            dists.append(float(p['rec_cos_distance']))
    return dict(counts=counts, num_images=len(preds),
                rec_cos_distance=float(np.mean(dists)) if dists else None)


def _num_embed(config: str, root: str) -> int:
    from mmengine.config import Config
    return int(Config.fromfile(osp.join(root, config)).model.quantizer
               .num_embed)


def collect(pipe) -> Dict:
    """Every number of the table, from the files of a finished run."""
    w = pipe.work_dir
    res: Dict = dict(preset=pipe.args.preset, data=pipe.data,
                     classes=len(pipe.classes), val_split=pipe.val_split)

    def scal(stage: str) -> List[Dict]:
        d = osp.join(w, stage)
        return scalars.load_scalars(d) if osp.isdir(d) else []

    vq = scal('vqkd')
    res['vqkd_train_loss_rec'] = scalars.last_value(
        vq, 'loss_rec', 'train')
    pkl = osp.join(w, 'codebook', 'tokens.pkl')
    if osp.isfile(pkl):
        k = _num_embed(pipe.preset['vqkd'], pipe.root)
        tok = token_counts(pkl, k)
        np.save(osp.join(w, 'codebook', 'counts.npy'), tok['counts'])
        stats = scalars.codebook_stats(tok['counts'])
        res.update(codebook_K=k, codebook_used=stats['used'],
                   codebook_usage=100 * stats['usage'],
                   codebook_perplexity=stats['perplexity'],
                   val_rec_cos_distance=tok['rec_cos_distance'],
                   codebook_images=tok['num_images'])
    pt = scal('pretrain')
    for key in ('loss_mim', 'loss_mim_agg', 'acc_mim', 'acc_mim_agg',
                'acc_mim_majority'):
        # the last logged value (mmengine's mean over its log window)
        res[f'pretrain_{key}'] = scalars.last_value(pt, key, 'train')
    res['mae_loss'] = scalars.last_value(scal('mae'), 'loss', 'train')
    res['finetune_top1'] = scalars.last_value(
        scal('finetune'), 'accuracy/top1', 'val')
    # per-layer feature probes (tools/analysis_tools/feature_probe.py):
    # last block, the block chosen on held-out train images, every block
    res['probes'] = {}
    for stage in PROBE_NAMES:
        path = osp.join(w, stage, 'probe.json')
        if osp.isfile(path):
            with open(path) as f:
                probe = json.load(f)
            res['probes'][stage] = probe
            res[f'{stage}_top1'] = probe['last_top1']
            res[f'{stage}_best_top1'] = probe['best_top1']
            res[f'{stage}_best_layer'] = probe['best_layer']
    res['timings_s'] = dict(pipe.timings)
    return res


def _f(v: Optional[float], fmt: str = '{:.3f}', scale: float = 1.) -> str:
    """Format a number that may be missing."""
    return 'n/a' if v is None else fmt.format(v * scale)


def _block(layer: Optional[int]) -> str:
    return 'n/a' if layer is None else str(int(layer) + 1)


def table(res: Dict, stages: List[str]) -> str:
    """The results table as markdown."""
    pct = '{:.1f}%'
    rows = [('data', f"{res['data']} ({res['classes']} classes, val split "
             f"'{res['val_split']}')")]
    if 'codebook_K' in res:
        rows += [
            (f"codebook usage ({res['val_split']} split)",
             f"{res['codebook_used']}/{res['codebook_K']} codes = "
             f"{res['codebook_usage']:.1f}% (K={res['codebook_K']}), "
             f"perplexity {res['codebook_perplexity']:.0f}"),
        ]
    rows += [
        ('reconstruction loss (1 - cos)',
         f"train {_f(res['vqkd_train_loss_rec'])}, {res['val_split']} "
         f"{_f(res.get('val_rec_cos_distance'))}"),
        ('MIM accuracy (masked tokens)',
         f"final {_f(res['pretrain_acc_mim'], pct, 100)}, aggregation "
         f"{_f(res['pretrain_acc_mim_agg'], pct, 100)}, majority-code "
         f"baseline {_f(res['pretrain_acc_mim_majority'], pct, 100)}"),
        ('MIM loss (final / aggregation)',
         f"{_f(res['pretrain_loss_mim'])} / "
         f"{_f(res['pretrain_loss_mim_agg'])}"),
    ]
    p, r = res.get('probe_top1'), res.get('probe_random_top1')
    gap = '' if p is None or r is None else f' (gap {p - r:+.1f} points)'
    pb, rb = res.get('probe_best_top1'), res.get('probe_random_best_top1')
    if pb is not None and rb is not None:
        rows.append(('linear probe top-1, best block',
                     f'BEiT v2 {_f(pb, pct)} (block '
                     f"{int(res['probe_best_layer']) + 1}) vs random init "
                     f'{_f(rb, pct)} (block '
                     f"{int(res['probe_random_best_layer']) + 1}) "
                     f'(gap {pb - rb:+.1f} points)'))
    rows.append(('linear probe top-1, last block',
                 f'BEiT v2 {_f(p, pct)} vs random init {_f(r, pct)}{gap}'))
    if 'probe_mae' in stages:
        rows.append(('MAE (pixel targets) probe top-1, best / last block',
                     f"{_f(res.get('probe_mae_best_top1'), pct)} (block "
                     f"{_block(res.get('probe_mae_best_layer'))}) / "
                     f"{_f(res.get('probe_mae_top1'), pct)}"))
    if 'probe_teacher' in stages:
        rows.append(('teacher-feature probe top-1 (ceiling)',
                     _f(res.get('probe_teacher_top1'), pct)))
    if 'finetune' in stages:
        rows.append(('fine-tune top-1', _f(res.get('finetune_top1'), pct)))
    t = res['timings_s']
    rows.append(('wall time', ', '.join(
        f'{s} {t[s] / 60:.1f} min' for s in stages if s in t) +
        f" (total {sum(t.get(s, 0) for s in stages) / 60:.1f} min, "
        f"{sum(t.get(s + '_cpu', 0) for s in stages):.0f} CPU s)"))
    width = max(len(a) for a, _ in rows)
    lines = [f"| {'metric'.ljust(width)} | value |",
             f"|{'-' * (width + 2)}|-------|"]
    lines += [f'| {a.ljust(width)} | {b} |' for a, b in rows]
    return '\n'.join(lines)


def pictures(pipe, res: Dict) -> Dict[str, str]:
    """Write the PNGs; returns name -> path (or why it was skipped)."""
    w, out = pipe.work_dir, {}
    runs = {s: osp.join(w, s) for s in pipe.stages
            if s != 'codebook' and osp.isdir(osp.join(w, s))}
    path = osp.join(w, 'loss_curves.png')
    if scalars.plot_curves(runs, CURVE_KEYS, path,
                           title=f'run_demo --preset {pipe.args.preset}'):
        out['loss_curves'] = path
    counts = osp.join(w, 'codebook', 'counts.npy')
    if osp.isfile(counts):
        path = osp.join(w, 'codebook_usage.png')
        scalars.plot_codebook(
            np.load(counts), path, osp.join(w, 'vqkd'),
            usage_keys=('batch_code_usage', 'batch_perplexity'),
            title='VQ-KD codebook on the val split')
        out['codebook_usage'] = path
    out['codebook_grid'] = codebook_grid(pipe)
    out.update(learned_pictures(pipe, res))
    try:
        from mmbeitv2.datasets.demo.shapes10 import image_grid
        grid, _ = image_grid(pipe.data, pipe.val_split, per_class=8)
        grid.save(osp.join(w, 'data_samples.png'))
        out['data_samples'] = osp.join(w, 'data_samples.png')
    except (OSError, IndexError) as e:
        out['data_samples'] = f'skipped ({e})'
    return out


def _test_features(work_dir: str, stage: str, layer: int):
    """Test features of one block, labels and paths of a probe stage."""
    import torch
    d = torch.load(osp.join(work_dir, stage, 'features.pt'),
                   weights_only=True)  # our own file (feature_probe.py)
    return (d['features'][:, layer].float().numpy(), d['labels'].numpy(),
            d['paths'])


def _first_of_each_class(labels: np.ndarray, n: int) -> List[int]:
    """Index of the first sample of each of the first ``n`` classes
    present (fewer if there are fewer classes; then more per class)."""
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    rest = [i for i in range(len(labels)) if i not in firsts]
    return (firsts + rest)[:n]


def learned_pictures(pipe, res: Dict) -> Dict[str, str]:
    """Token maps, nearest neighbours and probe bars (pictures.py)."""
    w, out = pipe.work_dir, {}
    probes = res.get('probes', {})
    if probes:
        out['probe_bars'] = probe_bars(
            {PROBE_NAMES[s]: p for s, p in probes.items()},
            osp.join(w, 'probe_bars.png'),
            f'linear probes on {osp.basename(pipe.data)} '
            f"({probes[next(iter(probes))]['num_test']} test images)")
    if 'probe' in probes and 'probe_random' in probes:
        feats = {}
        sets = [('probe', 'BEiT v2'), ('probe_random', 'random init')]
        if 'probe_mae' in probes:  # the pixel-target baseline, when run
            sets.append(('probe_mae', 'MAE'))
        for stage, name in sets:
            x, labels, paths = _test_features(
                w, stage, probes[stage]['best_layer'])
            feats[name] = x
        queries = _first_of_each_class(labels, NN_QUERIES)
        path = osp.join(w, 'nearest_neighbours.png')
        same = nearest_neighbours(paths, labels, feats, queries, path)
        res['nn_same_class'] = same
        out['nearest_neighbours'] = path
        if osp.isfile(pipe.ckpt('vqkd')):
            out['token_maps'] = token_maps_picture(
                pipe, [paths[i] for i in queries])
    return out


def token_maps_picture(pipe, paths: List[str],
                       title: str = 'VQ-KD code ids of test images') -> str:
    """Code ids of ``paths`` by the trained tokenizer (tokens only, its
    own preprocessing) beside the images as it saw them."""
    import torch
    from PIL import Image

    from mmbeitv2.apis.tokens import (get_tokens, load_image,
                                      load_tokenizer, tokenizer_input_size)
    # our own checkpoint, written by the vqkd stage: trusted
    tok = load_tokenizer(osp.join(pipe.root, pipe.preset['vqkd']),
                         pipe.ckpt('vqkd'), trusted=True)
    size = tokenizer_input_size(tok)
    images = [load_image(p, size) for p in paths]  # (3, S, S) in [0, 1]
    tokens = get_tokens(tok, torch.stack(images)).numpy()
    pil = [Image.fromarray((x.permute(1, 2, 0).numpy() * 255).round()
                           .astype(np.uint8)) for x in images]
    return token_maps(
        pil, tokens, tuple(tok.encoder.patch_resolution),
        [class_name(p) for p in paths],
        osp.join(pipe.work_dir, 'token_maps.png'), title)


def codebook_grid(pipe) -> str:
    """The codebook patch grid through the tokenizer's own tool."""
    tool = osp.join(pipe.root, 'tools', 'analysis_tools',
                    'visualize_codebook.py')
    if not osp.isfile(tool):
        return 'skipped (tools/analysis_tools/visualize_codebook.py missing)'
    path = osp.join(pipe.work_dir, 'codebook_grid.png')
    # our own checkpoint, written by the vqkd stage: --trusted
    cmd = [sys.executable, tool, pipe.preset['vqkd'], pipe.ckpt('vqkd'),
           '--data', osp.join(pipe.data, pipe.val_split), '--out', path,
           '--hist', osp.join(pipe.work_dir, 'codebook_grid_hist.png'),
           '--max-images', '500', '--trusted']
    proc = subprocess.run(cmd, cwd=pipe.root, capture_output=True,
                          text=True)
    with open(osp.join(pipe.work_dir, 'codebook_grid.log'), 'w') as f:
        f.write(' '.join(cmd) + '\n' + proc.stdout + proc.stderr)
    if proc.returncode != 0 or not osp.isfile(path):
        return f'failed (see {pipe.work_dir}/codebook_grid.log)'
    return path


def make_report(pipe) -> Dict:
    res = collect(pipe)
    res['pictures'] = pictures(pipe, res)
    text = table(res, pipe.stages)
    with open(osp.join(pipe.work_dir, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.join(pipe.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    print('\n' + text)
    for name, path in res['pictures'].items():
        print(f'{name}: {path}')
    return res
