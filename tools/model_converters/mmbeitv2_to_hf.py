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
from mmbeitv2.checkpoint.hf_keys import (hf_config_kwargs,  # noqa: E402
                                         mmbeitv2_to_hf)
from mmbeitv2.checkpoint.mmbeitv2_layout import (  # noqa: E402
    fill_fresh, infer_settings, read_checkpoint, split_checkpoint)
from mmbeitv2.cli import run_cli  # noqa: E402
from mmbeitv2.errors import UserInputError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmbeitv2 checkpoint')
    parser.add_argument('dst_dir', help='output save_pretrained folder')
    parser.add_argument('--num-heads', type=int, default=None,
                        help='only for a backbone without relative '
                        'position tables')
    return parser.parse_args(argv)


def export(src: str, dst_dir: str, num_heads=None) -> dict:
    """Convert ``src`` and write ``dst_dir``; returns what was detected."""
    from transformers import (BeitConfig, BeitForImageClassification,
                              BeitModel)
    parts = split_checkpoint(read_checkpoint(src), src)
    settings = infer_settings(parts['backbone'], num_heads)
    head = parts['head']
    num_labels = 0 if head is None else head['weight'].shape[0]
    try:
        config = BeitConfig(**hf_config_kwargs(settings, num_labels))
    except ValueError as exc:
        raise UserInputError(f'{src}: {exc}') from exc
    if head is None:
        model, prefix = BeitModel(config, add_pooling_layer=True), ''
    else:
        model, prefix = BeitForImageClassification(config), 'beit.'
    state_dict = mmbeitv2_to_hf(parts['backbone'], head, prefix)
    added = fill_fresh(state_dict, model.state_dict())
    result = model.load_state_dict(state_dict, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model.save_pretrained(dst_dir)
    save_image_processor(dst_dir, settings['img_size'])
    return dict(kind=parts['kind'], cls=type(model).__name__, added=added,
                dropped=parts['dropped'], tensors=len(state_dict))


def save_image_processor(dst_dir: str, size: int) -> None:
    """``preprocessor_config.json`` of our test pipeline (module doc)."""
    from transformers import BeitImageProcessor
    resize = round(size * 256 / 224)
    BeitImageProcessor(
        do_resize=True,
        size=dict(height=resize, width=resize),
        resample=3,  # PIL bicubic
        do_center_crop=True,
        crop_size=dict(height=size, width=size),
        do_rescale=True,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        do_reduce_labels=False).save_pretrained(dst_dir)


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
