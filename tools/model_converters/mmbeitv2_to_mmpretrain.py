# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Export an mmbeitv2 checkpoint (``BEiTv2`` pretraining, fine-tuned
``ImageClassifier`` or bare backbone) for mmpretrain's ``BEiTViT``: the
weights (``DST``) and a config next to them (``DST`` with ``.py``).

``BEiTv2ViT`` keeps mmpretrain's parameter names, so only the
pretraining-only ``mask_token`` is dropped; the config states the layout
read off the weights (shared or per-block relative position tables, layer
scale, pooling) and names them in ``load_from``. The config's data
preprocessor is ImageNet's mean/std. To fine-tune the backbone in an
mmpretrain config instead: ``init_cfg=dict(type='Pretrained',
checkpoint=DST, prefix='backbone.')``.

Example::

    python tools/model_converters/mmbeitv2_to_mmpretrain.py \\
        work_dirs/ft/epoch_100.pth beitv2_mmpretrain.pth
    python -c "from mmpretrain import get_model; \\
        m = get_model('beitv2_mmpretrain.py', pretrained=True)"
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint.mmbeitv2_layout import (  # noqa: E402
    infer_settings, read_checkpoint, split_checkpoint)
from mmbeitv2.checkpoint.mmpretrain_keys import (  # noqa: E402
    mmbeitv2_to_mmpretrain, mmpretrain_config_text, mmpretrain_model_cfg)
from mmbeitv2.cli import converter_parser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = converter_parser(
        __doc__, 'mmbeitv2 checkpoint',
        'output weights (.pth); the config is written next to it as .py')
    parser.add_argument('--num-heads', type=int, default=None,
                        help='only for a backbone without relative '
                        'position tables')
    return parser.parse_args(argv)


def export(src: str, dst: str, num_heads=None) -> dict:
    """Convert ``src``, write ``dst`` and its config; returns the paths."""
    parts = split_checkpoint(read_checkpoint(src), src)
    settings = infer_settings(parts['backbone'], num_heads)
    head = parts['head']
    num_classes = 0 if head is None else head['weight'].shape[0]
    state_dict = mmbeitv2_to_mmpretrain(parts['backbone'], head)
    torch.save({'state_dict': state_dict}, dst)
    dst_abs = osp.abspath(dst)
    model = mmpretrain_model_cfg(settings, num_classes)
    config = osp.splitext(dst)[0] + '.py'
    with open(config, 'w') as f:
        f.write(mmpretrain_config_text(model, dst_abs))
    return dict(kind=parts['kind'], config=config, dropped=parts['dropped'],
                tensors=len(state_dict), num_classes=num_classes)


def main(argv=None) -> None:
    args = parse_args(argv)
    info = export(args.src, args.dst, args.num_heads)
    print(f'{args.src}: {info["kind"]} checkpoint -> mmpretrain BEiTViT '
          f'(num_classes={info["num_classes"]}), {info["tensors"]} tensors '
          f'-> {args.dst}, config {info["config"]}')
    for what in info['dropped']:
        print(f'  dropped {what}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
