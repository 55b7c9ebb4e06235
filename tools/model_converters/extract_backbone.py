# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Keep only the backbone of a pretraining checkpoint (drop the neck, the
MIM head, the tokenizer, the optimizer state and the message hub), for
fine-tuning, linear probing or segmentation.

The keys keep their ``backbone.`` prefix by default, so the file loads with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``
in mmbeitv2, mmpretrain (``BEiTViT``) and mmseg configs; ``--strip-prefix``
writes bare backbone keys instead.

Example::

    python tools/model_converters/extract_backbone.py \\
        work_dirs/beitv2_cifar/iter_400.pth work_dirs/beitv2_cifar/backbone.pth
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.logging import print_log

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint import (  # noqa: E402
    extract_backbone, load_checkpoint_file, unwrap_state_dict)
from mmbeitv2.cli import converter_parser  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = converter_parser(__doc__, 'pretraining checkpoint',
                              'output backbone checkpoint')
    parser.add_argument(
        '--strip-prefix',
        action='store_true',
        help='write bare backbone keys (no ``backbone.``)')
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='load a full mmengine checkpoint with weights_only=False '
        '(runs pickled code: only for files you trust)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    state_dict, _ = unwrap_state_dict(
        load_checkpoint_file(args.src, args.trusted))
    out = extract_backbone(state_dict, strip_prefix=args.strip_prefix)
    if not out:
        raise RuntimeError(f'{args.src} has no backbone.* keys')
    torch.save({'state_dict': out}, args.dst)
    print_log(
        f'{args.src}: kept {len(out)} of {len(state_dict)} tensors '
        f'-> {args.dst}',
        logger='current')


if __name__ == '__main__':
    main()
