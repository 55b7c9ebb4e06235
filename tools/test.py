# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

The same command line as mmpretrain's ``tools/test.py`` (without its
visualisation options). The checkpoint is loaded safely (see README
"Checkpoint trust").
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

# Let `python tools/x.py` use this checkout's mmbeitv2 even before
# `pip install -e .` (mmpretrain's shell launchers set PYTHONPATH instead).
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out', help='the file to output results (a pickle of predictions)')
    parser.add_argument(
        '--test-set',
        help='a test set config fragment whose test_dataloader.dataset and '
        'test_evaluator replace the config\'s (the config\'s test pipeline '
        'is kept), e.g. configs/_base_/datasets/robustness/imagenet_a.py')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load CHECKPOINT with full unpickling (weights_only=False), '
        'which can run code stored in the file; only for files you made or '
        'fully trust (see docs/usage.md "Checkpoint trust").')
    from mmbeitv2.cli import add_launch_args, parse_launch_args
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge CLI arguments to config (as mmpretrain's tools/test.py)."""
    from mmbeitv2.cli import apply_cfg_options, set_launcher_and_work_dir
    set_launcher_and_work_dir(cfg, args)
    cfg.load_from = args.checkpoint

    if args.test_set is not None:
        from mmbeitv2.cli import apply_test_set
        apply_test_set(cfg, args.test_set)

    if args.out is not None:
        assert args.out.endswith(('.pkl', '.pickle')), \
            'The dump file (--out) must be a pkl file.'
        test_evaluator = cfg.test_evaluator
        if not isinstance(test_evaluator, list):
            test_evaluator = [test_evaluator]
        test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
        cfg.test_evaluator = test_evaluator

    return apply_cfg_options(cfg, args.cfg_options)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)

    from mmbeitv2.cli import prepare_run
    from mmbeitv2.engine import build_runner
    trusted = [args.checkpoint] if args.trust_checkpoint else []
    cfg = merge_args(prepare_run(args.config, trusted), args)
    runner = build_runner(cfg)
    return runner.test()


if __name__ == '__main__':
    from mmbeitv2.cli import run_cli
    sys.exit(run_cli(main))
