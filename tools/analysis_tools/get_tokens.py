# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Print the VQ-KD code ids of images, as the official ``test_get_code.py``.

Usage:
    python tools/analysis_tools/get_tokens.py CONFIG CHECKPOINT IMAGE \
        [IMAGE ...] [--out tokens.json]

Each image: RGB, Resize(round(S * 256 / 224), bicubic, shorter edge) ->
CenterCrop(S) -> [0, 1], where S is the tokenizer's input size from CONFIG
(224 for the paper config). The teacher is never built, so this works
offline with any config. ``--out`` writes ``{path as given: [ids in raster
order]}``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))


def build_tokenizer(config: str, checkpoint: str, trusted: bool = False):
    """Tokenizer from CONFIG without its teacher, strictly loaded."""
    from mmengine.config import Config

    from mmbeitv2.models.tokenizers import load_tokenizer_checkpoint
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    model_cfg = cfg.model
    model_cfg.teacher = None  # tokens only: never build/download a teacher
    model_cfg.pop('init_cfg', None)
    model_cfg.pop('data_preprocessor', None)
    model = MODELS.build(model_cfg)
    load_tokenizer_checkpoint(model, checkpoint, trusted=trusted)
    return model.eval()


def load_image(path: str, size: int) -> torch.Tensor:
    """(3, S, S) float in [0, 1]."""
    from PIL import Image
    from torchvision import transforms
    tf = transforms.Compose([
        transforms.Resize(
            round(size * 256 / 224),
            interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
    ])
    with Image.open(path) as img:
        return tf(img.convert('RGB'))


def get_tokens(model, paths: List[str]) -> dict:
    size = model.encoder.patch_resolution[0] * model.encoder.patch_size
    batch = torch.stack([load_image(p, size) for p in paths])
    tokens = model.get_tokens(batch)  # (B, H*W)
    return {p: t.tolist() for p, t in zip(paths, tokens)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--out', help='write a JSON {path: ids} here')
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='full unpickling of CHECKPOINT (an mmengine checkpoint you made)')
    args = parser.parse_args()
    model = build_tokenizer(args.config, args.checkpoint, args.trusted)
    result = get_tokens(model, args.images)
    for path, ids in result.items():
        print(f'{path}: {" ".join(map(str, ids))}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f)


if __name__ == '__main__':
    main()
