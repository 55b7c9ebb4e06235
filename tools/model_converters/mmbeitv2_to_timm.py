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

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint.mmbeitv2_layout import (  # noqa: E402
    fill_fresh, infer_settings, read_checkpoint, split_checkpoint)
from mmbeitv2.checkpoint.timm_keys import mmbeitv2_to_timm  # noqa: E402
from mmbeitv2.cli import run_cli  # noqa: E402
from mmbeitv2.errors import UserInputError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmbeitv2 checkpoint')
    parser.add_argument('dst', help='output timm state dict (.pth or '
                        '.safetensors)')
    parser.add_argument('--model', default='beitv2_base_patch16_224',
                        help='timm model name the weights are for')
    return parser.parse_args(argv)


def export(src: str, dst: str, model: str) -> dict:
    """Convert ``src`` and write ``dst``; returns what was detected."""
    import timm
    parts = split_checkpoint(read_checkpoint(src), src)
    settings = infer_settings(parts['backbone'])
    if settings['use_abs_pos_emb']:
        raise UserInputError(f'{src}: a backbone with pos_embed is not a '
                             'timm beitv2 model')
    head = parts['head']
    num_classes = 0 if head is None else head['weight'].shape[0]
    state_dict = mmbeitv2_to_timm(parts['backbone'], head)
    try:
        target = timm.create_model(
            model, pretrained=False, num_classes=num_classes)
    except RuntimeError as exc:
        raise UserInputError(f'--model {model}: {exc}') from exc
    added = fill_fresh(state_dict, target.state_dict())
    try:
        target.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1:3]
        raise UserInputError(
            f'{src} does not fit timm {model} (arch {settings["arch"]}, '
            f'img_size {settings["img_size"]}): {" ".join(first)[:300]}; '
            'pick the matching --model') from exc
    if dst.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in state_dict.items()}, dst)
    else:
        torch.save(state_dict, dst)
    return dict(kind=parts['kind'], num_classes=num_classes, added=added,
                dropped=parts['dropped'], tensors=len(state_dict))


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
