# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Show what the codes of a VQ-KD tokenizer mean (the paper's Figure 4).

Usage:
    python tools/analysis_tools/visualize_codebook.py CONFIG CHECKPOINT \
        --data DIR --out grid.png [--hist hist.png] [--num-codes 16] \
        [--per-code 10] [--max-images 2000]

Tokenizes the images under DIR (recursively; preprocessing as
``get_tokens.py``), then draws, for each of the ``--num-codes`` most used
codes, one row of image patches assigned to it (each patch with some
context around it), and a histogram of code usage (codes sorted by count,
log scale) to ``--hist`` (default: next to ``--out``).
"""
import argparse
import glob
import os
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from mmbeitv2.apis.tokens import load_image, load_tokenizer  # noqa: E402

EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def list_images(root: str, limit: int) -> list:
    files = sorted(
        f for f in glob.glob(osp.join(root, '**', '*'), recursive=True)
        if f.lower().endswith(EXTS))
    if limit and len(files) > limit:
        # An even spread over the (class-sorted) folders.
        idx = np.linspace(0, len(files) - 1, limit).round().astype(int)
        files = [files[i] for i in idx]
    return files


@torch.no_grad()
def tokenize(model, files: list, size: int, batch: int = 128):
    images, tokens = [], []
    for i in range(0, len(files), batch):
        x = torch.stack([load_image(f, size) for f in files[i:i + batch]])
        images.append(x)
        tokens.append(model.get_tokens(x))
    return torch.cat(images), torch.cat(tokens)  # (M,3,S,S), (M,H*W)


def patch_grid(images, tokens, codes, grid, patch, per_code, zoom=4):
    """One row per code: patches assigned to it, each shown with some
    context around it and a red frame just outside the patch."""
    ctx = max(patch // 2, 6)
    cell = patch + 2 * ctx
    pad = torch.nn.functional.pad(images, (ctx, ) * 4, value=0.5)
    canvas = np.full((len(codes) * (cell + 2), per_code * (cell + 2), 3),
                     255, np.uint8)
    lo, hi = ctx - 1, ctx + patch  # frame rows/cols, outside the patch
    for r, code in enumerate(codes):
        where = (tokens == code).nonzero()[:per_code]
        for c, (img, pos) in enumerate(where.tolist()):
            y, x = divmod(pos, grid)
            crop = pad[img, :, y * patch:y * patch + cell,
                       x * patch:x * patch + cell]
            crop = (crop.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
            crop[[lo, hi], lo:hi + 1] = (255, 0, 0)
            crop[lo:hi + 1, [lo, hi]] = (255, 0, 0)
            oy, ox = r * (cell + 2) + 1, c * (cell + 2) + 1
            canvas[oy:oy + cell, ox:ox + cell] = crop
    return canvas.repeat(zoom, 0).repeat(zoom, 1)


def save_histogram(counts: torch.Tensor, path: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    sorted_counts = counts.sort(descending=True).values.numpy()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(np.arange(len(sorted_counts)), sorted_counts + 1e-9, width=1.0)
    ax.set_yscale('log')
    ax.set_xlabel('code rank')
    ax.set_ylabel('assignments')
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data', required=True, help='image folder')
    parser.add_argument('--out', required=True, help='grid PNG')
    parser.add_argument('--hist', help='histogram PNG')
    parser.add_argument('--num-codes', type=int, default=16)
    parser.add_argument('--per-code', type=int, default=10)
    parser.add_argument('--max-images', type=int, default=2000)
    parser.add_argument('--trusted', action='store_true')
    args = parser.parse_args()

    from PIL import Image

    from mmbeitv2.models.tokenizers import codebook_stats
    model = load_tokenizer(args.config, args.checkpoint, trusted=args.trusted)
    grid, patch = model.encoder.patch_resolution[0], model.encoder.patch_size
    files = list_images(args.data, args.max_images)
    if not files:
        raise SystemExit(f'no images under {args.data}')
    images, tokens = tokenize(model, files, grid * patch)
    counts = torch.bincount(
        tokens.flatten(), minlength=model.quantize.num_tokens)
    stats = codebook_stats(counts)
    codes = counts.argsort(descending=True)[:args.num_codes].tolist()
    canvas = patch_grid(images, tokens, codes, grid, patch, args.per_code)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    Image.fromarray(canvas).save(args.out)
    hist = args.hist or osp.splitext(args.out)[0] + '_hist.png'
    save_histogram(
        counts, hist,
        f'{len(files)} images, K={counts.numel()}: usage '
        f'{100 * stats["usage"]:.1f}%, perplexity {stats["perplexity"]:.0f}')
    print(f'{len(files)} images; K={counts.numel()}; usage '
          f'{100 * stats["usage"]:.2f}%; perplexity '
          f'{stats["perplexity"]:.1f}; unused {stats["unused"]}; '
          f'grid -> {args.out}; histogram -> {hist}')


if __name__ == '__main__':
    main()
