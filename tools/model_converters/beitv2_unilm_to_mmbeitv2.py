# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Convert an official BEiT v2 checkpoint (microsoft/unilm ``beit2/``) to
mmbeitv2 keys.

The pretraining layout (``beitv2_*_pt1k*.pth``: ``cls_pt_layers``,
``lm_head``) becomes a ``BEiTv2`` state dict (``backbone.*``, ``neck.*``,
``head.*``); the fine-tuning layout (``*_ft1k*.pth``: per-block tables,
``fc_norm``, ``head``) an ``ImageClassifier`` one. Both load with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.

Example::

    python tools/model_converters/beitv2_unilm_to_mmbeitv2.py \\
        beitv2_base_patch16_224_pt1k.pth work_dirs/beitv2_base_pt1k.pth
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.logging import print_log

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint import (  # noqa: E402
    convert_beitv2_finetune, convert_beitv2_pretrain, is_finetune_layout,
    load_checkpoint_file, unwrap_state_dict)
from mmbeitv2.cli import converter_parser  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = converter_parser(__doc__, 'official checkpoint',
                              'output checkpoint (``state_dict``)')
    parser.add_argument(
        '--layout',
        choices=['auto', 'pretrain', 'finetune'],
        default='auto',
        help='official layout; auto-detected by default')
    parser.add_argument(
        '--head-prefix',
        default='head.fc.',
        help='where a fine-tuning ``head.*`` goes')
    return parser.parse_args(argv)


def convert(src: str,
            dst: str,
            layout: str = 'auto',
            head_prefix: str = 'head.fc.') -> dict:
    """Convert ``src`` and save ``{'state_dict': ...}`` to ``dst``.

    Returns:
        dict: The converted state dict.
    """
    # A plain tensor checkpoint: safe to load with weights_only.
    state_dict, source = unwrap_state_dict(load_checkpoint_file(src))
    if layout == 'auto':
        layout = 'finetune' if is_finetune_layout(state_dict) \
            else 'pretrain'
    if layout == 'pretrain':
        out = convert_beitv2_pretrain(state_dict)
    else:
        out = convert_beitv2_finetune(state_dict, head_prefix)
    torch.save({'state_dict': out}, dst)
    print_log(
        f'{src} [{source or "bare"}, {layout} layout]: {len(state_dict)} '
        f'tensors -> {len(out)} in {dst} '
        f'({len(state_dict) - len(out)} relative_position_index dropped)',
        logger='current')
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    convert(args.src, args.dst, args.layout, args.head_prefix)


if __name__ == '__main__':
    main()
