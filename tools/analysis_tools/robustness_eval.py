# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Evaluate an ImageNet-1k classifier on ImageNet-1k val and on the shifted
test sets ImageNet-A, -R, -V2 and -Sketch, and print one table.

Usage:
    python tools/analysis_tools/robustness_eval.py CONFIG CHECKPOINT \
        --root data/ [--sets imagenet imagenet-a ...] [--work-dir DIR] \
        [--quiet] [--trust-checkpoint] [--cfg-options k=v ...]

Each test set is a config fragment of ``configs/_base_/datasets/robustness/``
applied to CONFIG (its model and test pipeline) and run by the same runner as
``tools/test.py CONFIG CHECKPOINT --test-set FRAGMENT``. Looked for under
``--root``: ``imagenet/val`` (or ``imagenet`` with ``meta/val.txt``),
``imagenet-a``, ``imagenet-r``, ``imagenet-v2``, ``imagenet-sketch``; a set
that is missing (or laid out wrongly) is listed under the table, not fatal.
ImageNet-A/-R are scored on their 200 classes as the official BEiT v2
``--robust_test`` (``SubsetAccuracy``). The table gives top-1/top-5 per set
and the mean over the shifted sets found; ``WORK_DIR/robustness.json`` holds
the same numbers.
"""
import argparse
import json
import os.path as osp
import sys
import time
import warnings
from typing import Dict, List, Optional

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FRAGMENTS = osp.join(REPO, 'configs', '_base_', 'datasets', 'robustness')
# name -> (row label, folder under --root, fragment); 'imagenet' is the
# reference, the others the distribution shifts averaged in the last row.
TEST_SETS = {
    'imagenet': ('ImageNet-1k val', 'imagenet', 'imagenet_val.py'),
    'imagenet-a': ('ImageNet-A', 'imagenet-a', 'imagenet_a.py'),
    'imagenet-r': ('ImageNet-R', 'imagenet-r', 'imagenet_r.py'),
    'imagenet-v2': ('ImageNet-V2', 'imagenet-v2', 'imagenet_v2.py'),
    'imagenet-sketch': ('ImageNet-Sketch', 'imagenet-sketch',
                        'imagenet_sketch.py'),
}
REFERENCE = 'imagenet'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='fine-tuned ImageNet-1k config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument(
        '--root', default='data', help='folder holding the test sets')
    parser.add_argument(
        '--sets',
        nargs='+',
        choices=list(TEST_SETS),
        default=list(TEST_SETS),
        help='test sets to run (default: all)')
    parser.add_argument(
        '--work-dir',
        help='where logs and robustness.json go (default: '
        'work_dirs/robustness/<config name>)')
    parser.add_argument(
        '--quiet',
        action='store_true',
        help='log warnings only (no config dumps or progress lines)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load CHECKPOINT with full unpickling (docs/usage.md '
        '"Checkpoint trust")')
    from mmbeitv2.cli import add_launch_args, parse_launch_args
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def locate(root: str, folder: str, fragment) -> dict:
    """Where a test set's images are under ``root``: the dataset fields to
    set (``data_root``, maybe ``ann_file``) and the folder to look for."""
    dataset = fragment.test_dataloader.dataset
    data_root = osp.join(root, folder)
    fields = dict(data_root=data_root)
    if dataset.get('variant') == 'imagenet' and osp.isfile(
            osp.join(data_root, 'meta', 'val.txt')):
        fields['ann_file'] = osp.join('meta', 'val.txt')
    images = osp.join(data_root, dataset.get('data_prefix', ''))
    return dict(fields=fields, images=osp.normpath(images))


def evaluate(args: argparse.Namespace, name: str, fragment,
             fields: dict) -> dict:
    """Run the test loop of CONFIG on one test set; top-1/top-5 and size."""
    from mmbeitv2.cli import (apply_test_set, load_config,
                              set_default_dataloaders)
    from mmbeitv2.engine import build_runner
    cfg = load_config(args.config)
    cfg.launcher = args.launcher
    cfg.work_dir = osp.join(args.work_dir, name)
    cfg.load_from = args.checkpoint
    # one runner per set in this process: unique logger/visualizer names
    cfg.experiment_name = f'{name}_{time.strftime("%Y%m%d_%H%M%S")}'
    if args.quiet:
        cfg.log_level = 'WARNING'
    apply_test_set(cfg, fragment)
    cfg.test_dataloader.dataset.update(fields)
    set_default_dataloaders(cfg)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    runner = build_runner(cfg)
    metrics = runner.test()
    evaluator = fragment.test_evaluator
    return dict(
        top1=float(metrics['accuracy/top1']),
        top5=float(metrics['accuracy/top5']),
        images=len(runner.test_loop.dataloader.dataset),
        classes=200 if 'subset' in evaluator else 1000)


def format_table(results: Dict[str, dict], skipped: Dict[str, str]) -> str:
    """The printed table: one row per test set, then the mean over shifts
    and the sets not evaluated."""
    lines = [
        '| test set | images | classes | top-1 | top-5 |',
        '|---|---:|---:|---:|---:|',
    ]
    for name, res in results.items():
        lines.append(f'| {TEST_SETS[name][0]} | {res["images"]} | '
                     f'{res["classes"]} | {res["top1"]:.2f} | '
                     f'{res["top5"]:.2f} |')
    shifts = [n for n in results if n != REFERENCE]
    if shifts:
        mean = {k: sum(results[n][k] for n in shifts) / len(shifts)
                for k in ('top1', 'top5')}
        lines.append(f'| mean over shifts ({len(shifts)} of '
                     f'{len(TEST_SETS) - 1}) | | | {mean["top1"]:.2f} | '
                     f'{mean["top5"]:.2f} |')
    for name, why in skipped.items():
        lines.append(f'not evaluated: {TEST_SETS[name][0]} ({why})')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.dist import is_main_process

    from mmbeitv2.compat import install_runtime_patches
    from mmbeitv2.checkpoint.trust import trust_checkpoint
    from mmbeitv2.cli import load_config
    from mmbeitv2.errors import CheckpointLoadError, UserInputError
    from mmbeitv2.utils import register_all_modules

    install_runtime_patches()
    if not osp.isfile(args.checkpoint):
        raise UserInputError(f'checkpoint not found: {args.checkpoint}')
    if args.trust_checkpoint:
        trust_checkpoint(args.checkpoint)
    register_all_modules(init_default_scope=False)
    load_config(args.config)  # a bad CONFIG fails once, up front
    if args.work_dir is None:
        args.work_dir = osp.join(
            'work_dirs', 'robustness',
            osp.splitext(osp.basename(args.config))[0])

    results, skipped = {}, {}
    for name in TEST_SETS:
        if name not in args.sets:
            continue
        fragment = Config.fromfile(osp.join(FRAGMENTS, TEST_SETS[name][2]))
        where = locate(args.root, TEST_SETS[name][1], fragment)
        if not osp.isdir(where['images']):
            skipped[name] = f'missing: {where["images"]}'
            continue
        try:
            results[name] = evaluate(args, name, fragment, where['fields'])
        except CheckpointLoadError:
            raise
        except UserInputError as exc:  # a set laid out wrongly
            skipped[name] = f'skipped: {exc}'
    if not results:
        raise UserInputError(
            f'no test set found under {args.root}; expected '
            + ', '.join(TEST_SETS[n][1] for n in args.sets) +
            ' (docs/robustness.md)')
    if is_main_process():
        print(format_table(results, skipped), flush=True)
        with open(osp.join(args.work_dir, 'robustness.json'), 'w') as f:
            json.dump(dict(results=results, not_evaluated=skipped), f,
                      indent=1)
    return dict(results=results, not_evaluated=skipped)


if __name__ == '__main__':
    from mmbeitv2.cli import run_cli
    sys.exit(run_cli(main))
