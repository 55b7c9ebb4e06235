# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Train a model: ``python tools/train.py CONFIG [options]``.

The same command line as mmpretrain's ``tools/train.py``. On top of it the
mmbeitv2 runner is used by default (atomic checkpoint writes, safe checkpoint
loading) and bad input ends in one line on stderr instead of a traceback.
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
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training: on CUDA bf16 where '
        'the GPU supports it, else fp16 with dynamic loss scale; without '
        'CUDA bf16 autocast on CPUs with AMX-BF16 / AVX512-BF16, fp32 on '
        'others (one log line says which)')
    parser.add_argument(
        '--amp-cpu-bf16',
        action='store_true',
        help='with --amp on a machine without CUDA: bf16 autocast on CPU '
        'even where the CPU has no bf16 instructions (emulated, no faster; '
        'to exercise the mixed-precision paths)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the model\'s forward (the config\'s `compile`; '
        'compile.target=train_step compiles mmengine\'s whole train_step); '
        'where the backend cannot run, one line says so and training stays '
        'eager')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='whether to disable the pin_memory option in dataloaders.')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='whether to disable the persistent_workers option in dataloaders.'
    )
    parser.add_argument(
        '--trust-checkpoint',
        action='append',
        default=[],
        metavar='PATH',
        help='load this checkpoint with full unpickling (weights_only=False),'
        ' which can run code stored in the file; only for files you made or '
        'fully trust (see docs/usage.md "Checkpoint trust"). May be repeated.')
    from mmbeitv2.cli import add_launch_args, parse_launch_args
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge CLI arguments to config (as mmpretrain's tools/train.py)."""
    from mmbeitv2.cli import (apply_cfg_options, configure_amp,
                              set_launcher_and_work_dir)

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    set_launcher_and_work_dir(cfg, args)

    if args.compile and not cfg.get('compile'):
        cfg.compile = True
    if args.amp is True:
        configure_amp(cfg, cpu_bf16=True if args.amp_cpu_bf16 else None)

    # resume training
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    return apply_cfg_options(
        cfg,
        args.cfg_options,
        pin_memory=not args.no_pin_memory,
        persistent_workers=not args.no_persistent_workers)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)

    from mmbeitv2.cli import prepare_run
    from mmbeitv2.engine import build_runner
    cfg = merge_args(prepare_run(args.config, args.trust_checkpoint), args)
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    from mmbeitv2.cli import run_cli
    sys.exit(run_cli(main))
