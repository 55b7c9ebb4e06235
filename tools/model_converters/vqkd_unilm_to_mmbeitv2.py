# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Convert an official BEiT v2 VQ-KD tokenizer checkpoint (microsoft/unilm
``beit2``, tensors under ``model``) into a weights-only file
(``{'state_dict': ...}``) that ``VQKDTokenizer`` loads strictly.

Teacher (``teacher_model.*``), scaling-layer and ``loss*`` keys are dropped
and counted, as the official loader does. Keys already in mmbeitv2 layout
pass unchanged, so the same tool exports the tokenizer weights of an
mmbeitv2 training checkpoint (``--trusted``: full unpickling of a file you
made yourself; official files never need it).

Usage: python tools/model_converters/vqkd_unilm_to_mmbeitv2.py SRC DST
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))
from mmbeitv2.checkpoint import (convert_vqkd, load_checkpoint_file,  # noqa
                                 unwrap_state_dict)


def convert_file(src: str, dst: str, trusted: bool = False) -> dict:
    """Convert ``src`` into ``dst``; returns the summary numbers."""
    state, _ = unwrap_state_dict(load_checkpoint_file(src, trusted))
    converted, dropped = convert_vqkd(state)
    torch.save(dict(state_dict=converted), dst)
    return dict(converted=len(converted), dropped=len(dropped))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('src', help='official tokenizer checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='full unpickling of SRC (weights_only=False): only for an '
        'mmengine checkpoint you made yourself')
    args = parser.parse_args()
    info = convert_file(args.src, args.dst, args.trusted)
    print(f'converted {info["converted"]} tensors, dropped '
          f'{info["dropped"]} teacher/scaling/loss keys -> {args.dst}')


if __name__ == '__main__':
    main()
