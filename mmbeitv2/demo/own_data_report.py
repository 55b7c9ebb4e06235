# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The report of ``tools/pretrain_own_data.py``: ``report.md`` and
``report.json`` in the work dir, with PNGs beside them.

Everything is read from what the stages left (mmengine ``scalars.json`` of
the two training runs, ``probe.json`` of the probes, ``export.json``):

- ``codebook_training.png``: the VQ-KD run's per-batch code usage and
  perplexity (logged by ``VQKDTokenizer``) and its reconstruction loss;
- ``dead_codes.png``: its dead codes per epoch (codes never hit in the
  epoch), from ``CodebookUsageHook``'s log lines, whose collapse alarms the
  table lists too;
- ``token_maps.png``: a few of the images beside their code ids;
- ``mim_accuracy.png``: the MIM accuracies of both branches against the
  majority-code baseline (a collapsed tokenizer gives a high, meaningless
  accuracy: the gap to the baseline is the signal);
- ``knn_monitor.png`` (with ``--labels``): the kNN top-1 of the backbone
  during pretraining (``monitor/knn_top1``);
- ``probe_bars.png`` (with ``--labels``): the feature probe per block of
  the pretrained and the random-init backbone.
"""
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

from . import scalars
from .pictures import probe_bars
from .report import token_maps_picture

CODEBOOK_KEYS = ('batch_code_usage', 'batch_perplexity', 'loss_rec')
# the lines CodebookUsageHook writes to the run's log
UNUSED_LINE = re.compile(r'Epoch (\d+): unused codes in codebook: (\d+) / '
                         r'(\d+)')
ALARM_LINE = re.compile(r'CodebookUsageHook: the VQ-KD codebook (is '
                        r'collapsing: .*?(?=\. Likely causes)|recovered '
                        r'\(.*?\))')
TOKEN_MAP_IMAGES = 8
MIM_KEYS = dict(acc_mim='final branch', acc_mim_agg='aggregation branch',
                acc_mim_majority='majority-code baseline')
MONITOR_KEY = 'monitor/knn_top1'
PROBES = dict(probe='BEiT v2', probe_random='random init')


def _series(records: List[Dict], key: str) -> List[List[float]]:
    steps, values = scalars.series(records, key)
    return [[int(s), float(v)] for s, v in zip(steps, values)]


def codebook_log(run_dir: str) -> Tuple[List[List[int]], List[str]]:
    """Dead codes per epoch and the codebook alarms of a VQ-KD run, from
    the log lines of ``CodebookUsageHook`` (every run of the work dir,
    oldest first: a resumed epoch's line replaces the earlier one).

    Returns:
        tuple: ``[[epoch, unused codes], ...]`` and the alarm / recovery
        messages, in order.
    """
    unused: Dict[int, int] = {}
    alarms = []
    for log in sorted(glob.glob(osp.join(run_dir, '*', '*.log'))):
        with open(log, errors='replace') as f:
            for line in f:
                m = UNUSED_LINE.search(line)
                if m:
                    unused[int(m.group(1))] = int(m.group(2))
                m = ALARM_LINE.search(line)
                if m:
                    alarms.append(m.group(1))
    return [[e, unused[e]] for e in sorted(unused)], alarms


def collect(pipe) -> Dict:
    """Every number of the report, from the files of a finished run."""
    w = pipe.work_dir
    vq = scalars.load_scalars(osp.join(w, 'vqkd'))
    pt = scalars.load_scalars(osp.join(w, 'pretrain'))
    res: Dict = dict(
        data=pipe.data, num_images=len(pipe.images), arch=pipe.args.arch,
        teacher=pipe.teacher, epochs=list(pipe.epochs), gpus=pipe.args.gpus,
        codebook_size=int(pipe.cfgs['vqkd'].model.quantizer.num_embed),
        configs={s: pipe.config_path(s) for s in pipe.cfgs})
    for key in CODEBOOK_KEYS:
        res[f'vqkd_{key}'] = scalars.last_value(vq, key, 'train')
    res['vqkd_dead_codes_per_epoch'], res['vqkd_codebook_alarms'] = \
        codebook_log(osp.join(w, 'vqkd'))
    for key in ('loss_mim', *MIM_KEYS):
        res[f'pretrain_{key}'] = scalars.last_value(pt, key, 'train')
    res['monitor_knn_top1'] = _series(pt, MONITOR_KEY)
    res['probes'] = {}
    for stage in PROBES:
        path = osp.join(w, stage, 'probe.json')
        if osp.isfile(path):
            with open(path) as f:
                res['probes'][stage] = json.load(f)
    path = osp.join(w, 'export', 'export.json')
    if osp.isfile(path):
        with open(path) as f:
            res['export'] = json.load(f)
    res['timings_s'] = dict(pipe.timings)
    return res


def pictures(pipe, res: Dict) -> Dict[str, str]:
    """Write the PNGs; returns name -> path."""
    w, out = pipe.work_dir, {}
    vq = osp.join(w, 'vqkd')
    path = osp.join(w, 'codebook_training.png')
    if scalars.plot_curves({'vqkd': vq}, CODEBOOK_KEYS, path,
                           title=f'VQ-KD codebook, K={res["codebook_size"]}'):
        out['codebook_training'] = path
    dead = res['vqkd_dead_codes_per_epoch']
    path = osp.join(w, 'dead_codes.png')
    if scalars.plot_lines(
            {'codes never hit in the epoch': ([e for e, _ in dead],
                                              [n for _, n in dead])},
            path, f'VQ-KD dead codes, K={res["codebook_size"]}',
            xlabel='epoch', ylabel='codes'):
        out['dead_codes'] = path
    pt = scalars.load_scalars(osp.join(w, 'pretrain'))
    path = osp.join(w, 'mim_accuracy.png')
    if scalars.plot_lines(
            {name: scalars.series(pt, key, 'train')
             for key, name in MIM_KEYS.items()}, path,
            'MIM accuracy on masked tokens', ylabel='accuracy'):
        out['mim_accuracy'] = path
    path = osp.join(w, 'knn_monitor.png')
    if scalars.plot_lines({'kNN top-1 (%)': scalars.series(pt, MONITOR_KEY)},
                          path, 'kNN monitor during pretraining',
                          ylabel='top-1 (%)'):
        out['knn_monitor'] = path
    if osp.isfile(pipe.ckpt('vqkd')):
        step = max(1, len(pipe.images) // TOKEN_MAP_IMAGES)
        out['token_maps'] = token_maps_picture(
            pipe, pipe.images[::step][:TOKEN_MAP_IMAGES],
            title='VQ-KD code ids of your images')
    if res['probes']:
        probes = {PROBES[s]: p for s, p in res['probes'].items()}
        out['probe_bars'] = probe_bars(
            probes, osp.join(w, 'probe_bars.png'),
            f'feature probes on {osp.basename(pipe.labels["root"])} '
            f'({next(iter(probes.values()))["num_test"]} test images)')
    return out


def _pct(v: Optional[float], scale: float = 100.) -> str:
    return 'n/a' if v is None else f'{v * scale:.1f}%'


def _num(v: Optional[float], fmt: str = '{:.3f}') -> str:
    return 'n/a' if v is None else fmt.format(v)


def table(res: Dict, stages: List[str]) -> List[str]:
    """The results as markdown table rows."""
    rows = [
        ('data', f"{res['num_images']} images under {res['data']}"),
        ('recipe', f"--arch {res['arch']} --teacher {res['teacher']} "
         f"--epochs {res['epochs'][0]} {res['epochs'][1]} "
         f"--gpus {res['gpus']}"),
        ('codebook, last logged batch',
         f"usage {_pct(res['vqkd_batch_code_usage'])} of "
         f"K={res['codebook_size']}, perplexity "
         f"{_num(res['vqkd_batch_perplexity'], '{:.0f}')}"),
        ('dead codes per epoch (codes never hit in it)',
         ', '.join(f'{e}: {n}' for e, n in res['vqkd_dead_codes_per_epoch'])
         or 'n/a'),
        ('codebook alarms (CodebookUsageHook)',
         '; '.join(res['vqkd_codebook_alarms']) or 'none'),
        ('VQ-KD reconstruction loss (1 - cos), last logged',
         _num(res['vqkd_loss_rec'])),
        ('MIM accuracy, final / aggregation branch',
         f"{_pct(res['pretrain_acc_mim'])} / "
         f"{_pct(res['pretrain_acc_mim_agg'])} vs majority-code baseline "
         f"{_pct(res['pretrain_acc_mim_majority'])}"),
    ]
    if res['monitor_knn_top1']:
        rows.append(('kNN monitor top-1 by iteration', ', '.join(
            f'{s}: {v:.1f}%' for s, v in res['monitor_knn_top1'])))
    p, r = res['probes'].get('probe'), res['probes'].get('probe_random')
    if p and r:
        rows.append((
            'feature probe top-1, best / last block',
            f"BEiT v2 {p['best_top1']:.1f}% (block {p['best_layer'] + 1}) / "
            f"{p['last_top1']:.1f}% vs random init {r['best_top1']:.1f}% "
            f"(block {r['best_layer'] + 1}) / {r['last_top1']:.1f}%"))
    t = res['timings_s']
    rows.append(('wall time', ', '.join(
        f'{s} {t[s] / 60:.1f} min' for s in stages if s in t)))
    return ['| metric | value |', '|---|---|'] + [
        f'| {a} | {b} |' for a, b in rows]


def markdown(res: Dict, pics: Dict[str, str], stages: List[str]) -> str:
    lines = ['# BEiT v2 on your images', '', *table(res, stages), '']
    for name, path in pics.items():
        lines += [f'![{name}]({osp.basename(path)})', '']
    ex = res.get('export')
    if ex:
        kwargs = ', '.join(f'{k}={v!r}' for k, v in ex['timm_kwargs'].items())
        lines += [
            '## The exported backbone', '',
            f"- mmbeitv2 / mmpretrain / mmseg: `{ex['mmbeitv2']}` "
            "(`init_cfg=dict(type='Pretrained', checkpoint=..., "
            "prefix='backbone.')`)",
            f"- timm: `{ex['timm']}`: `timm.create_model("
            f"'{ex['timm_model']}', pretrained=False, num_classes=0, "
            f'{kwargs})` then `load_state_dict(safetensors.torch.'
            'load_file(...))`',
            f"- Hugging Face: `transformers.BeitModel.from_pretrained("
            f"'{ex['hf']}')`", '']
    lines += ['## The config each stage ran', ''] + [
        f'- {s}: `{p}`' for s, p in res['configs'].items()] + [
        '', 'Rerun one: `python tools/train.py CONFIG` (vqkd, pretrain) or '
        '`python tools/analysis_tools/feature_probe.py CONFIG --work-dir '
        'DIR` (probes).']
    return '\n'.join(lines) + '\n'


def make_report(pipe) -> Dict:
    res = collect(pipe)
    res['pictures'] = pictures(pipe, res)
    text = markdown(res, res['pictures'], pipe.stages)
    with open(osp.join(pipe.work_dir, 'report.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.join(pipe.work_dir, 'report.md'), 'w') as f:
        f.write(text)
    pipe.log(f'report: {osp.join(pipe.work_dir, "report.md")}')
    return res
