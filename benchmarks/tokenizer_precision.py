# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The tokenizer under the student's bf16 autocast, at paper size, on real
photos: how many codes change, and what it does to the pretraining losses.

The official loop tokenizes inside the student's autocast
(``beit2/engine_for_pretraining.py``), which is ``BEiTv2``'s default
(``tokenizer_precision='autocast'``); ``'fp32'`` keeps the tokenizer in
fp32. Two measurements:

1. **Token agreement**: the ViT-B/16 VQ-KD tokenizer (8192 x 32 codebook;
   random init, seed 0 as in the throughput benchmark, or
   ``--checkpoint``) codes every patch of
   the photos in fp32 and under bf16 autocast; the fraction of equal codes,
   for all patches and for the masked-subset path (``get_tokens`` with a
   ``query_index``, what pretraining calls).
2. **Losses over a short run**: the same ViT-B/16 student, init and batches
   (the photos, random masks of 75 patches), AdamW, every step under bf16
   autocast; once with the tokenizer in the autocast, once in fp32. Prints
   both loss curves and their largest relative difference.

Example (docs/benchmark.md)::

    python -m benchmarks.tokenizer_precision --images DIR --steps 20
"""
import argparse
import copy
import glob
import os.path as osp
import time
from typing import Dict, List

import numpy as np
import torch
from mmengine.logging import MMLogger
from PIL import Image

from benchmarks.benchmark_stages import build_sides, make_batch
from mmbeitv2.utils import register_all_modules

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', required=True,
                   help='a folder of photos (searched recursively)')
    p.add_argument('--num', type=int, default=128, help='photos to use')
    p.add_argument('--arch', default='base', help='student arch')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--lr', type=float, default=1.5e-4)
    p.add_argument('--checkpoint', help='tokenizer weights (a VQKDTokenizer '
                   'state dict); default: random init')
    return p.parse_args()


def load_photos(folder: str, num: int, size: int = 224) -> torch.Tensor:
    """(num, 3, size, size) in [0, 1]: shorter side to ``size``, centre
    crop, sorted file order."""
    files = sorted(
        f for ext in ('jpg', 'jpeg', 'png', 'JPEG')
        for f in glob.glob(osp.join(folder, '**', f'*.{ext}'),
                           recursive=True))[:num]
    if not files:
        raise SystemExit(f'--images {folder}: no .jpg/.jpeg/.png files')
    out = []
    for f in files:
        img = Image.open(f).convert('RGB')
        scale = size / min(img.size)
        img = img.resize((max(size, round(img.width * scale)),
                          max(size, round(img.height * scale))),
                         Image.BICUBIC)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        img = img.crop((left, top, left + size, top + size))
        out.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
    return torch.stack(out).float() / 255


def token_agreement(tokenizer, photos: torch.Tensor, batch: int) -> Dict:
    """Equal codes, fp32 vs bf16 autocast: all patches, and the masked
    subset path (75 random patches per image, [CLS] index first)."""
    same = total = same_q = total_q = 0
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for x in photos.split(batch):
            n = (x.shape[-1] // 16)**2
            order = torch.rand(len(x), n, generator=g).argsort(1)[:, :75]
            query = torch.cat(
                [torch.zeros(len(x), 1, dtype=torch.long),
                 order.sort(1).values + 1], 1)
            codes = {}
            for bf16 in (False, True):
                with torch.autocast('cpu', dtype=torch.bfloat16,
                                    enabled=bf16):
                    codes[bf16] = (tokenizer.get_tokens(x),
                                   tokenizer.get_tokens(x, query))
            same += (codes[False][0] == codes[True][0]).sum().item()
            total += codes[False][0].numel()
            same_q += (codes[False][1] == codes[True][1]).sum().item()
            total_q += codes[False][1].numel()
    return dict(all=same / total, masked_path=same_q / total_q,
                codes=total, masked_codes=total_q)


def short_run(model, photos: torch.Tensor, args) -> List[Dict]:
    """Per-step losses of ``args.steps`` AdamW steps under bf16 autocast."""
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.lr,
        betas=(0.9, 0.98), weight_decay=0.05, fused=True)
    out = []
    for step in range(args.steps):
        b = make_batch('pretrain', args.batch_size, photos.shape[-1],
                       torch.device('cpu'), seed=step)
        start = step * args.batch_size % len(photos)
        x01 = photos[start:start + args.batch_size]
        if len(x01) < args.batch_size:
            x01 = torch.cat([x01, photos[:args.batch_size - len(x01)]])
        t = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            losses = model.loss([(x01 - MEAN) / STD, x01],
                                b['data_samples_np'])
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        out.append(dict({k: float(v) for k, v in losses.items()},
                        seconds=time.perf_counter() - t))
    return out


def main() -> None:
    args = parse_args()
    MMLogger.get_instance('tokenizer_precision', log_level='WARNING')
    register_all_modules(init_default_scope=False)
    photos = load_photos(args.images, args.num)
    # seeded and initialised as in benchmarks/benchmark_train.py
    model = build_sides('pretrain', args.arch, 224, torch.device('cpu'),
                        with_ref=False)[0].model
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location='cpu',
                           weights_only=True)
        model.target_generator.load_state_dict(state.get('state_dict',
                                                         state))
    agree = token_agreement(model.target_generator, photos, args.batch_size)
    print(f'photos: {len(photos)} from {args.images}; tokenizer: ViT-B/16 '
          f'8192x32, {args.checkpoint or "random init, seed 0"}')
    print(f"token agreement bf16 autocast vs fp32: {agree['all']:.4f} of "
          f"{agree['codes']} codes; masked-subset path "
          f"{agree['masked_path']:.4f} of {agree['masked_codes']}")
    runs = {}
    for precision in ('autocast', 'fp32'):
        m = copy.deepcopy(model).train()
        m.tokenizer_precision = precision
        runs[precision] = short_run(m, photos, args)
    keys = [k for k in runs['autocast'][0] if k.startswith('loss')]
    print(f"\n{'step':>4} " + ' '.join(
        f'{k + " " + p:>24}' for k in keys for p in ('autocast', 'fp32')))
    worst = {k: 0. for k in keys}
    for i, (a, f) in enumerate(zip(runs['autocast'], runs['fp32'])):
        print(f'{i:>4} ' + ' '.join(
            f'{r[k]:>24.5f}' for k in keys for r in (a, f)))
        for k in keys:
            worst[k] = max(worst[k], abs(a[k] - f[k]) / abs(f[k]))
    secs = {p: float(np.median([r['seconds'] for r in v]))
            for p, v in runs.items()}
    print('largest relative loss difference over the run: ' + ', '.join(
        f'{k} {v:.2e}' for k, v in worst.items()))
    print(f"median step: tokenizer in autocast {secs['autocast']:.3f} s, "
          f"in fp32 {secs['fp32']:.3f} s")


if __name__ == '__main__':
    main()
