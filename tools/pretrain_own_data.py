# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Your own images to an exported BEiT v2 backbone, in one command.

    python tools/pretrain_own_data.py --data DIR                  # CPU recipe
    python tools/pretrain_own_data.py --data DIR --arch vit-b --gpus 8
    python tools/pretrain_own_data.py --data DIR --labels LABELLED_DIR

``--data``: any folder of images, flat or nested, no labels needed.
Stages: ``vqkd`` (the tokenizer, distilled from ``--teacher``),
``pretrain`` (BEiT v2 on the frozen tokenizer), with ``--labels`` a kNN
monitor during pretraining and ``probe`` / ``probe_random`` (feature probes
of the pretrained and a random-init backbone), and ``export`` (the backbone
for mmbeitv2, timm and Hugging Face). Each stage writes its full config
into its work dir (``python tools/train.py THAT_FILE`` reruns it); a rerun
of the same command reuses finished stages and resumes an interrupted one.
At the end: ``<work-dir>/report.md`` with its PNGs. See docs/own_data.md.
The stage chain is :mod:`mmbeitv2.demo.own_data` on the demo's
:class:`~mmbeitv2.demo.pipeline.Pipeline`.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmbeitv2.demo.own_data import STAGES, OwnDataPipeline  # noqa: E402
from mmbeitv2.demo.pipeline import add_stage_args  # noqa: E402
from mmbeitv2.demo.own_data_recipes import ARCHS, TEACHERS  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='VQ-KD -> BEiT v2 pretraining -> exported backbone, on '
        'a folder of your own images.')
    parser.add_argument(
        '--data', required=True,
        help='folder of images (flat or nested; every image under it)')
    parser.add_argument(
        '--teacher', default='effnet-lite0',
        help=f'VQ-KD teacher: {", ".join(TEACHERS)} (default: '
        'effnet-lite0, offline); NAME=FILE uses a local weights file for '
        'that teacher (open_clip or timm file)')
    parser.add_argument(
        '--arch', choices=list(ARCHS), default='cpu',
        help='cpu: the demo\'s 4x128 ViT at 32 px (2 CPU cores); vit-s / '
        'vit-b / vit-l: the paper recipes at 224 px (GPUs); tiny: a '
        'seconds-long smoke run')
    parser.add_argument(
        '--epochs', nargs=2, type=int, metavar=('VQKD', 'PRETRAIN'),
        help='epochs of the two training stages (default: cpu 6 6, '
        'vit-* 100 300 as the paper)')
    parser.add_argument(
        '--gpus', type=int, default=1,
        help='GPUs per training stage; > 1 runs tools/dist_train.sh')
    parser.add_argument(
        '--labels',
        help='optional labelled ImageFolder (train/<class>/*, val/ or '
        'test/): kNN monitor during pretraining and feature probes')
    parser.add_argument('--work-dir',
                        help='default: work_dirs/own_data_<arch>')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision in the training stages')
    parser.add_argument(
        '--options', nargs='+', default=[], metavar='STAGE:KEY=VALUE',
        help='config keys of one stage (vqkd, pretrain, probe, or all:), '
        'e.g. pretrain:train_dataloader.batch_size=64; set before the '
        'data and the schedule (--epochs) are')
    add_stage_args(parser, STAGES)
    args = parser.parse_args(argv)
    if args.gpus < 1:
        parser.error('--gpus must be >= 1')
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    return OwnDataPipeline(parse_args(argv), root=ROOT).run()


if __name__ == '__main__':
    main()
