# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Convert a timm BEiT v2 state dict (``beitv2_base_patch16_224`` and
friends, ``.pth`` or ``.safetensors``) to an mmbeitv2 ``ImageClassifier``
checkpoint (``backbone.*``, plus ``head.fc.*`` when it has a classifier).

Fine-tune or probe it with our configs:
``--cfg-options model.backbone.init_cfg.checkpoint=DST`` (the configs load
``prefix='backbone.'``), or ``load_from=DST`` for the whole classifier.

Example::

    python tools/model_converters/timm_to_mmbeitv2.py \\
        beitv2_base_patch16_224.safetensors beitv2_base_mmbeitv2.pth
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint.io import read_state_dict  # noqa: E402
from mmbeitv2.checkpoint.timm_keys import timm_to_mmbeitv2  # noqa: E402
from mmbeitv2.cli import converter_parser, run_cli  # noqa: E402
from mmbeitv2.errors import UserInputError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    return converter_parser(__doc__,
                            'timm state dict (.pth / .safetensors)',
                            'output mmbeitv2 checkpoint').parse_args(argv)


def load_tensors(path: str) -> dict:
    """A ``.safetensors`` file, or a torch file loaded with
    ``weights_only=True``, in timm's own keys (timm's names are the official
    fine-tuning ones, so the official-layout conversion must not run)."""
    if path.endswith('.safetensors'):
        if not osp.isfile(path):
            raise UserInputError(f'file not found: {path}')
        from safetensors.torch import load_file
        return load_file(path)
    return read_state_dict(path)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        out = timm_to_mmbeitv2(load_tensors(args.src))
    except KeyError as exc:
        raise UserInputError(
            f'{args.src} is not a timm BEiT state dict ({exc.args[0]})'
        ) from exc
    torch.save({'state_dict': out}, args.dst)
    head = 'with' if 'head.fc.weight' in out else 'without'
    print(f'{args.src}: timm Beit -> mmbeitv2 ImageClassifier {head} a '
          f'head, {len(out)} tensors -> {args.dst}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
