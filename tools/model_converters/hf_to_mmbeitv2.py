# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Convert a Hugging Face BEiT folder (``save_pretrained`` of ``BeitModel``
or ``BeitForImageClassification``: ``config.json`` +
``model*.safetensors``) to an mmbeitv2 ``ImageClassifier`` checkpoint
(``backbone.*``, plus ``head.fc.*`` with a classifier).

The ``BEiTv2ViT`` arguments that rebuild the same model are printed (shared
or per-block tables, layer scale, pooling); our fine-tune configs load the
file with ``init_cfg=dict(type='Pretrained', checkpoint=DST,
prefix='backbone.')`` and copy a shared table into every block.

Example::

    python tools/model_converters/hf_to_mmbeitv2.py hf_beitv2_base/ \\
        beitv2_base_mmbeitv2.pth
"""
import argparse
import glob
import json
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint.hf_keys import hf_to_mmbeitv2  # noqa: E402
from mmbeitv2.checkpoint.io import read_state_dict  # noqa: E402
from mmbeitv2.checkpoint.mmbeitv2_layout import (  # noqa: E402
    infer_settings, split_checkpoint)
from mmbeitv2.cli import converter_parser, run_cli  # noqa: E402
from mmbeitv2.errors import UserInputError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    return converter_parser(
        __doc__, 'HF save_pretrained folder', 'output mmbeitv2 checkpoint',
        src='src_dir').parse_args(argv)


def load_hf_folder(src_dir: str) -> tuple:
    """(config dict, state dict) of a ``save_pretrained`` folder, without
    importing transformers."""
    cfg_path = osp.join(src_dir, 'config.json')
    if not osp.isfile(cfg_path):
        raise UserInputError(f'{src_dir} has no config.json; pass a '
                             'save_pretrained folder')
    with open(cfg_path) as f:
        config = json.load(f)
    if config.get('model_type') not in ('beit', 'data2vec-vision'):
        raise UserInputError(f'{cfg_path}: model_type '
                             f'{config.get("model_type")!r} is not beit')
    files = sorted(glob.glob(osp.join(src_dir, '*.safetensors')))
    state_dict = {}
    if files:
        from safetensors.torch import load_file
        for path in files:
            state_dict.update(load_file(path))
    elif osp.isfile(osp.join(src_dir, 'pytorch_model.bin')):
        state_dict = read_state_dict(
            osp.join(src_dir, 'pytorch_model.bin'))
    else:
        raise UserInputError(f'{src_dir} has no *.safetensors or '
                             'pytorch_model.bin weights')
    return config, state_dict


def main(argv=None) -> None:
    args = parse_args(argv)
    config, state_dict = load_hf_folder(args.src_dir)
    if abs(config.get('layer_norm_eps', 1e-12) - 1e-6) > 1e-9:
        print(f'note: {args.src_dir} uses LayerNorm eps '
              f'{config.get("layer_norm_eps")}; BEiTv2ViT uses 1e-6')
    try:
        out = hf_to_mmbeitv2(state_dict)
    except (KeyError, ValueError) as exc:
        raise UserInputError(f'{args.src_dir}: {exc.args[0]}') from exc
    torch.save({'state_dict': out}, args.dst)
    settings = infer_settings(
        split_checkpoint(out)['backbone'],
        num_heads=config.get('num_attention_heads'))
    print(f'{args.src_dir}: HF BEiT -> mmbeitv2 ImageClassifier, '
          f'{len(out)} tensors -> {args.dst}')
    print(f'  BEiTv2ViT settings: {settings}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
