# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Export an mmbeitv2 checkpoint (``BEiTv2`` pretraining, fine-tuned
``ImageClassifier`` or bare backbone) to a Hugging Face ``save_pretrained``
folder (``config.json`` + weights).

``transformers.BeitModel.from_pretrained(DST_DIR)`` (a backbone) or
``BeitForImageClassification.from_pretrained(DST_DIR)`` (with a linear
head) loads it without missing or unexpected keys. The config mirrors the
checkpoint: a shared relative position table (pretraining) or per-block
tables, layer scale, mean pooling (our ``ln2``; a fresh identity norm when
the checkpoint has none) or [CLS] pooling after a final norm, LayerNorm eps
1e-6. A ``preprocessor_config.json`` (``BeitImageProcessor``) holds our
evaluation preprocessing: ImageNet mean/std (not BEiT v1's 0.5), bicubic
resize to round(S * 256 / 224) and center crop S; HF resizes both sides,
so for non-square images it differs from our shorter-edge resize.

Example::

    python tools/model_converters/mmbeitv2_to_hf.py \\
        work_dirs/ft/epoch_100.pth hf_beitv2_base/
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.checkpoint.export import export_hf as export  # noqa: E402
from mmbeitv2.cli import run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmbeitv2 checkpoint')
    parser.add_argument('dst_dir', help='output save_pretrained folder')
    parser.add_argument('--num-heads', type=int, default=None,
                        help='only for a backbone without relative '
                        'position tables')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    info = export(args.src, args.dst_dir, args.num_heads)
    print(f'{args.src}: {info["kind"]} checkpoint -> transformers '
          f'{info["cls"]}, {info["tensors"]} tensors -> {args.dst_dir}')
    for what in info['dropped']:
        print(f'  dropped {what}')
    if info['added']:
        print(f'  started as identity: {", ".join(info["added"])}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
