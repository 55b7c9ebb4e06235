# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The whole BEiT v2 pipeline in one command, on CPU.

    python tools/run_demo.py                  # embedded CIFAR-10 subset
    python tools/run_demo.py --data DIR       # any ImageFolder data
    python tools/run_demo.py --preset cifar --data data/cifar10

Stages (each a ``tools/train.py`` / ``tools/test.py`` /
``tools/analysis_tools/feature_probe.py`` subprocess with a config from
``configs/demo/`` or the small CPU configs it inherits):

1. ``vqkd``      VQ-KD tokenizer training, offline EfficientNet-Lite0 teacher
2. ``codebook``  tokenize the val split: codebook usage, reconstruction
3. ``pretrain``  BEiT v2 masked image modeling on the frozen tokenizer
4. ``probe``     linear probe of the pretrained backbone (per block,
   logistic regression on features extracted once)
5. ``probe_random``  the same probe on a randomly initialised backbone
6. ``probe_teacher``  the probe on the frozen teacher's features
7. ``mae``, ``probe_mae``  the pixel-target baseline (cifar): mmpretrain's
   MAE on the same ViT and budget, probed the same way
8. ``finetune``  short end-to-end fine-tune (cifar)

Re-running reuses finished stages (a stage is done when its final
checkpoint / output exists), resumes an interrupted one from its last
checkpoint, and ``--force`` reruns everything (or ``--force pretrain ...``
the named stages and every stage after them). At the end it prints a table
(also in ``<work-dir>/results.md`` and ``results.json``) and writes PNGs
(loss curves, codebook usage, the codebook patch grid). See docs/demo.md.
The stage chain, presets and report are the package ``mmbeitv2.demo``.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from mmbeitv2.demo import PRESETS, STAGES, Pipeline
from mmbeitv2.demo.pipeline import add_stage_args

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run VQ-KD -> BEiT v2 pretraining -> linear probes.')
    parser.add_argument(
        '--preset', choices=sorted(PRESETS), default='demo',
        help='demo: the embedded CIFAR-10 subset, ~10 min on 2 CPU cores; '
        'shapes10: generated shapes; cifar: the CIFAR-10 benchmark; tiny: '
        'a seconds-long smoke run')
    parser.add_argument(
        '--data', help='ImageFolder root (train/<class>/*, val/ or test/); '
        'cifar also takes the official python archive (a folder with '
        'cifar-10-batches-py/ or cifar-10-python.tar.gz, downloaded there '
        'when missing); default: the embedded subset (demo, tiny), the '
        'generated shapes10 (shapes10) or data/cifar10 (cifar)')
    parser.add_argument('--work-dir', help='default: work_dirs/<preset>')
    parser.add_argument(
        '--options', nargs='+', default=[], metavar='STAGE:KEY=VALUE',
        help='extra --cfg-options for one stage (or "all:"), e.g. '
        'pretrain:train_cfg.max_iters=100 vqkd:train_cfg.max_epochs=1; '
        'the final checkpoint name follows max_epochs / max_iters')
    parser.add_argument(
        '--config', nargs='+', default=[], metavar='STAGE=PATH',
        help='run a stage with another config (e.g. an ablation of '
        'configs/demo/ablations/), or add a stage the preset leaves out '
        '(e.g. finetune=...)')
    parser.add_argument(
        '--data-size', nargs=2, type=int, metavar=('TRAIN', 'VAL'),
        help='images per class of the generated shapes10 '
        '(shapes10: 200 50)')
    parser.add_argument(
        '--no-mae', action='store_true',
        help='skip the MAE baseline (stages mae, probe_mae) of the demo '
        'and cifar presets')
    parser.add_argument(
        '--amp', action=argparse.BooleanOptionalAction, default=True,
        help='mixed precision in the training stages (tools/train.py '
        '--amp: bf16 autocast on a CPU with AMX / AVX512-BF16, fp32 on '
        'other CPUs; on by default: the table stays within the tolerance '
        'of docs/demo.md of the fp32 one); --no-amp: fp32 everywhere')
    add_stage_args(parser, STAGES)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    return Pipeline(args, root=ROOT).run()


if __name__ == '__main__':
    main()
