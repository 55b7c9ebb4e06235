# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Print the VQ-KD code ids of images, as the official ``test_get_code.py``.

Usage:
    python tools/analysis_tools/get_tokens.py CONFIG CHECKPOINT IMAGE \
        [IMAGE ...] [--out tokens.json]

Each image: RGB, Resize(round(S * 256 / 224), bicubic, shorter edge) ->
CenterCrop(S) -> [0, 1], where S is the tokenizer's input size from CONFIG
(224 for the paper config). The teacher is never built, so this works
offline with any config. ``--out`` writes ``{path as given: [ids in raster
order]}``. The same in Python: ``mmbeitv2.apis.load_tokenizer`` and
``mmbeitv2.apis.get_tokens``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.apis.tokens import get_tokens as tokens_of  # noqa: E402
from mmbeitv2.apis.tokens import load_image  # noqa: E402,F401
from mmbeitv2.apis.tokens import load_tokenizer  # noqa: E402


def build_tokenizer(config: str, checkpoint: str, trusted: bool = False):
    """Tokenizer from CONFIG without its teacher, strictly loaded."""
    return load_tokenizer(config, checkpoint, trusted=trusted)


def get_tokens(model, paths: List[str]) -> dict:
    """``{path: [ids]}`` of the images at ``paths``."""
    tokens = tokens_of(model, paths)  # (B, H*W)
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
    from mmbeitv2.cli import run_cli
    sys.exit(run_cli(main))
