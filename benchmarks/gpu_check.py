# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Mixed-precision and fused-attention checks for a GPU.

1. bf16 autocast vs fp32, one training forward/backward of the same model
   and batch, for BEiT v2 pretraining and VQ-KD: the loss differences, the
   pretraining targets (the share of bf16 codes equal to the fp32 ones:
   the tokenizer's encoder runs in the student's autocast, as the official
   loop; with ``tokenizer_precision='fp32'`` they are identical) and
   whether every gradient is finite.
2. ``BEiTAttention`` with a float relative-position bias: the fused SDPA
   path (``use_sdpa=True``) vs the spelled-out softmax, forward and
   backward, in fp32 and bf16.

Prints one JSON document (also written to ``--out``). Runs on CPU too
(``--device cpu --arch tiny --img-size 64``: the test suite's smoke
run). Called by ``benchmarks/gpu_check.sh``, which adds the throughput
ratio. Run from the repository root::

    python -m benchmarks.gpu_check --device cpu --arch tiny --img-size 64
"""
import argparse
import json
import sys
from typing import Dict

import torch

from benchmarks.benchmark_stages import build_sides, make_batch

TINY = dict(embed_dims=64, num_layers=4, num_heads=4, feedforward_channels=128)


def _losses(side, batch: Dict, dtype) -> tuple:
    """Float losses and gradients of one forward/backward."""
    side.model.zero_grad(set_to_none=True)
    with torch.autocast(batch_device(batch), dtype=dtype,
                        enabled=dtype != torch.float32):
        losses = side.loss(batch)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = {
        k: p.grad.detach().float().clone()
        for k, p in side.model.named_parameters() if p.grad is not None
    }
    return {k: float(v.detach()) for k, v in losses.items()}, grads


def batch_device(batch: Dict) -> str:
    for value in batch.values():
        if torch.is_tensor(value):
            return value.device.type
    return 'cpu'


def check_bf16(stage: str, arch, img_size: int, batch_size: int,
               device: torch.device) -> dict:
    """bf16 vs fp32 losses, targets and gradients of one stage."""
    side = build_sides(stage, arch, img_size, device, with_ref=False)[0]
    side.model.train()
    batch = make_batch(stage, batch_size, img_size, device, seed=0)
    loss32, grads32 = _losses(side, batch, torch.float32)
    loss16, grads16 = _losses(side, batch, torch.bfloat16)
    out = dict(
        losses_fp32=loss32,
        losses_bf16=loss16,
        loss_abs_diff={
            k: abs(loss16[k] - v)
            for k, v in loss32.items() if 'loss' in k
        },
        loss_rel_diff={
            k: abs(loss16[k] - v) / max(abs(v), 1e-12)
            for k, v in loss32.items() if 'loss' in k
        },
        grads_finite=all(torch.isfinite(g).all().item()
                         for g in grads16.values()),
        grad_max_rel_diff=max(
            ((grads16[k] - g).norm() / g.norm().clamp_min(1e-12)).item()
            for k, g in grads32.items()))
    model = side.model
    if stage == 'pretrain':
        view = batch['images01']  # the tokenizer view, [0, 1]
        with torch.autocast(device.type, dtype=torch.bfloat16):
            codes16 = model.get_targets(view)
        codes32 = model.get_targets(view)
        out['targets_agreement'] = (codes16 == codes32).float().mean().item()
        model.tokenizer_precision = 'fp32'
        with torch.autocast(device.type, dtype=torch.bfloat16):
            out['targets_identical_with_fp32_tokenizer'] = bool(
                torch.equal(model.get_targets(view), codes32))
        model.tokenizer_precision = 'autocast'
    return out


def check_sdpa(device: torch.device, embed_dims: int = 768,
               num_heads: int = 12, tokens: int = 197) -> dict:
    """Fused SDPA with a float bias vs the plain path, fp32 and bf16."""
    from mmbeitv2.models.utils import BEiTAttention
    out = {}
    for name, dtype in (('fp32', torch.float32), ('bf16', torch.bfloat16)):
        torch.manual_seed(0)
        fast = BEiTAttention(embed_dims, num_heads, use_sdpa=True)
        plain = BEiTAttention(embed_dims, num_heads, use_sdpa=False)
        plain.load_state_dict(fast.state_dict())
        fast, plain = fast.to(device), plain.to(device)
        x = torch.randn(4, tokens, embed_dims, device=device)
        bias = 0.5 * torch.randn(num_heads, tokens, tokens, device=device)
        results = []
        for module in (fast, plain):
            xi = x.clone().requires_grad_()
            bi = bias.clone().requires_grad_()
            with torch.autocast(device.type, dtype=dtype,
                                enabled=dtype != torch.float32):
                y = module(xi, bi)
            y.float().square().mean().backward()
            results.append((y.float(), xi.grad.float(), bi.grad.float()))
        diffs = {
            part: ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)
                   ).item()
            for part, a, b in zip(('out', 'grad_x', 'grad_bias'),
                                  results[0], results[1])
        }
        out[name] = dict(max_rel_diff=diffs)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    parser.add_argument('--arch', default='base', help="'base' or 'tiny'")
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--out', default=None, help='write the JSON here')
    args = parser.parse_args(argv)
    from mmbeitv2.utils import register_all_modules
    register_all_modules()
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        sys.exit('error: no CUDA device; pass --device cpu for a smoke run')
    arch = TINY if args.arch == 'tiny' else args.arch
    report = dict(
        device=torch.cuda.get_device_name(0)
        if device.type == 'cuda' else 'cpu',
        torch=torch.__version__,
        pretrain_bf16=check_bf16('pretrain', arch, args.img_size,
                                 args.batch_size, device),
        vqkd_bf16=check_bf16('vqkd', arch, args.img_size, args.batch_size,
                             device),
        sdpa_float_bias=check_sdpa(device, **(dict(
            embed_dims=64, num_heads=4, tokens=17) if args.arch == 'tiny'
                                                else {})))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return report


if __name__ == '__main__':
    main()
