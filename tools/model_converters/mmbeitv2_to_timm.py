# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Export an mmbeitv2 checkpoint (``BEiTv2`` pretraining, fine-tuned
``ImageClassifier`` or bare backbone) to a timm ``Beit`` state dict.

The file loads with ``strict=True`` into
``timm.create_model(MODEL, pretrained=False, num_classes=N)`` (N = the
classifier's classes, 0 for a backbone). A pretraining backbone's shared
relative position table is copied into every block; the pooled norm
``fc_norm`` that a pretraining backbone lacks starts as the identity, as in
the official fine-tuning. ``--model`` is checked by building it.

Example::

    python tools/model_converters/mmbeitv2_to_timm.py \\
        work_dirs/ft/epoch_100.pth beitv2_base_timm.pth \\
        --model beitv2_base_patch16_224
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint.export import export_timm as export  # noqa: E402
from mmbeitv2.cli import run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmbeitv2 checkpoint')
    parser.add_argument('dst', help='output timm state dict (.pth or '
                        '.safetensors)')
    parser.add_argument('--model', default='beitv2_base_patch16_224',
                        help='timm model name the weights are for')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    info = export(args.src, args.dst, args.model)
    print(f'{args.src}: {info["kind"]} checkpoint -> timm {args.model} '
          f'(num_classes={info["num_classes"]}), {info["tensors"]} tensors '
          f'-> {args.dst}')
    for what in info['dropped']:
        print(f'  dropped {what}')
    if info['added']:
        print(f'  started as identity: {", ".join(info["added"])}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
