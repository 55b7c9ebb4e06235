# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Side-by-side training throughput: mmbeitv2 vs mmpretrain.

For each stage it builds mmbeitv2's model and mmpretrain's at the same
math, warms both up, then alternates timed full training steps (forward,
backward, ``optimizer.step``, ``zero_grad``) in this one process, and
reports images/s (median and spread), peak memory, achieved FLOP/s, the MFU
against a matmul peak measured in the same run, and the per-pair
throughput ratio. See docs/benchmark.md.

Example::

    python -m benchmarks.benchmark_train --stage pretrain \\
        --arch small --batch-size 16 --steps 6 --out work_dirs/b.json
"""
import argparse
import json
import os.path as osp
import platform
import time
from typing import Dict, List, Optional

import torch
from mmengine.logging import MMLogger

from benchmarks.benchmark_stages import Side, build_sides, make_batch
from benchmarks.benchmark_utils import (PeakMemory, count_flops, matmul_peak,
                                        paired_ratio, summarize, time_call)
from mmbeitv2.utils import register_all_modules

DTYPES = dict(fp32=torch.float32, bf16=torch.bfloat16, fp16=torch.float16)


# The on/off options, in --help order: (flag, help).
SWITCHES = (
    ('--compile', 'torch.compile the mmbeitv2 loss forward'),
    ('--compile-ref', 'also torch.compile the mmpretrain one'),
    ('--fused-adamw', 'AdamW(fused=True) on both sides'),
    ('--plain-adamw-ours', "mmbeitv2 with torch's default AdamW (the "
     'per-parameter loop on CPU) instead of the fused=True of its configs'),
    ('--with-cp', 'gradient checkpointing in mmbeitv2 blocks'),
    ('--no-sdpa', 'plain attention math in mmbeitv2'),
    ('--no-masked-only-last-blocks', 'mmbeitv2 pretraining with '
     'use_masked_only_last_blocks=False: every token through the last '
     'blocks, as mmpretrain (the production default computes only [CLS] + '
     'masked tokens there)'),
    ('--ref-tokenizer-eval', "keep mmpretrain's tokenizer in eval (no EMA)"),
    ('--no-ref', 'mmbeitv2 only'),
)


# the schedule each stage's configs inherit
SCHEDULES = dict(
    pretrain='beitv2_adamw-coslr-300e.py',
    finetune='beitv2-finetune_adamw-layer-decay-coslr-100e.py',
    vqkd='vqkd_adamw-coslr-100e.py')


def config_fused_adamw(stage: str) -> bool:
    """``optimizer.fused`` of the stage's schedule config."""
    from mmengine.config import Config
    path = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                    'configs', '_base_', 'schedules', SCHEDULES[stage])
    return bool(Config.fromfile(path).optim_wrapper.optimizer.get('fused'))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--stage', default='pretrain',
                   choices=['pretrain', 'finetune', 'vqkd', 'all'])
    p.add_argument('--arch', default='base', help='small, base, large')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--dtype', default='fp32', choices=list(DTYPES))
    p.add_argument('--ref-dtype', default=None, choices=list(DTYPES),
                   help="mmpretrain's dtype if not --dtype, e.g. fp32: its "
                   "own runner's best CPU step (mmengine's AmpOptimWrapper "
                   'cannot autocast on CPU) against ours under --dtype bf16')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--steps', type=int, default=5, help='timed steps/side')
    p.add_argument('--warmup', type=int, default=1, help='steps per side')
    for flag, text in SWITCHES:
        p.add_argument(flag, action='store_true', help=text)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--profile', default=None,
                   help='write a torch.profiler op table of one mmbeitv2 '
                   'step to this file')
    p.add_argument('--out', default=None, help='write results as json')
    return p.parse_args()


class Trainer:
    """One side's training step, timed by phase."""

    def __init__(self, side: Side, args: argparse.Namespace,
                 device: torch.device, stage: str) -> None:
        self.side, self.device = side, device
        ref_dtype = args.ref_dtype or args.dtype
        self.dtype = DTYPES[ref_dtype if side.name == 'mmpretrain'
                            else args.dtype]
        params = [p for p in side.model.parameters() if p.requires_grad]
        # each side's AdamW as its configs build it: ours the schedule's
        # `fused` (configs/_base_/schedules), mmpretrain's torch's default
        ours = side.name == 'mmbeitv2'
        fused = args.fused_adamw or (ours and not args.plain_adamw_ours
                                     and config_fused_adamw(stage))
        extra = dict(fused=True) if fused else {}
        self.optimizer = torch.optim.AdamW(
            params, lr=side.lr, betas=(0.9, 0.98), weight_decay=0.05,
            **extra)
        self.scaler = torch.amp.GradScaler(
            device.type, enabled=self.dtype == torch.float16)
        self.loss_fn = side.loss
        if (args.compile and side.name == 'mmbeitv2') or \
                (args.compile_ref and side.name == 'mmpretrain'):
            self.loss_fn = torch.compile(side.loss)
        self.times: List[float] = []
        self.cpu_times: List[float] = []

    def step(self, batch: Dict) -> None:
        with torch.autocast(self.device.type, dtype=self.dtype,
                            enabled=self.dtype != torch.float32):
            losses = self.loss_fn(batch)
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    def timed_step(self, batch: Dict) -> float:
        # process CPU time (all threads) too: on a shared, oversubscribed
        # CPU it is far less sensitive to other jobs than wall time
        cpu = time.process_time()
        t = time_call(lambda: self.step(batch), self.device)
        self.cpu_times.append(time.process_time() - cpu)
        self.times.append(t)
        return t


def profile_step(trainer: Trainer, batch: Dict, path: str) -> None:
    """Top ops by self CPU time of one step (docs/benchmark.md table)."""
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU]
    if trainer.device.type == 'cuda':
        acts.append(ProfilerActivity.CUDA)
    with profile(activities=acts) as prof:
        trainer.step(batch)
    table = prof.key_averages().table(
        sort_by='self_cpu_time_total', row_limit=25)
    with open(path, 'w') as f:
        f.write(table)
    print(table)


def run_stage(stage: str, args: argparse.Namespace, device: torch.device,
              extra_opts: Optional[dict] = None) -> Dict:
    """Build both sides, warm up, count FLOPs and peak memory on one step
    each, then time ``args.steps`` alternated steps per side."""
    opts = dict(sdpa=not args.no_sdpa, with_cp=args.with_cp,
                masked_only=not args.no_masked_only_last_blocks,
                ref_tokenizer_eval=args.ref_tokenizer_eval,
                **(extra_opts or {}))
    sides = build_sides(stage, args.arch, args.img_size, device, opts,
                        with_ref=not args.no_ref)
    trainers = [Trainer(s, args, device, stage) for s in sides]
    batches = [
        make_batch(stage, args.batch_size, args.img_size, device, seed=i,
                   patch_size=opts.get('patch_size', 16))
        for i in range(args.steps + 1)
    ]
    # the first warm-up step holds torch.compile's tracing and codegen
    first_step = {}
    for i in range(args.warmup):
        for tr in trainers:
            start = time.perf_counter()
            tr.step(batches[-1])
            if device.type == 'cuda':
                torch.cuda.synchronize()
            first_step.setdefault(tr.side.name, time.perf_counter() - start)
    res = dict(stage=stage, sides={})
    # FLOPs grow linearly with the batch: count them on a 1-image step
    # (cheap) and scale.
    one = make_batch(stage, 1, args.img_size, device, seed=0,
                     patch_size=opts.get('patch_size', 16))
    for tr in trainers:
        res['sides'][tr.side.name] = dict(
            flops_per_step=count_flops(lambda: tr.step(one)) *
            args.batch_size,
            first_step_s=first_step.get(tr.side.name))
    for i in range(args.steps):
        # alternate which side goes first, so drift hits both equally
        order = trainers if i % 2 == 0 else trainers[::-1]
        for tr in order:
            if i == 0:  # peak memory on the first timed step of each side
                mem = PeakMemory(device)
                with mem.measure():
                    t = tr.timed_step(batches[i])
                res['sides'][tr.side.name].update(
                    peak_bytes=mem.peak, step_delta_bytes=mem.delta,
                    memory_method=mem.method)
            else:
                t = tr.timed_step(batches[i])
            print(f'[{stage}] step {i} {tr.side.name}: {t:.3f}s wall, '
                  f'{tr.cpu_times[-1]:.3f}s cpu', flush=True)
    for tr in trainers:
        r = res['sides'][tr.side.name]
        t = summarize(tr.times)
        r['step_time_s'] = t
        r['step_cpu_time_s'] = summarize(tr.cpu_times)
        r['images_per_s'] = args.batch_size / t['median']
        r['images_per_s_range'] = [
            args.batch_size / t['max'], args.batch_size / t['min']
        ]
        r['flops_per_s'] = r['flops_per_step'] / t['median']
        r['flops_per_image'] = r['flops_per_step'] / args.batch_size
    if len(trainers) == 2:
        res['ratio'] = paired_ratio(trainers[0].times, trainers[1].times)
        res['ratio_cpu_time'] = paired_ratio(trainers[0].cpu_times,
                                             trainers[1].cpu_times)
    if args.profile:
        profile_step(trainers[0], batches[0], args.profile)
    return res


def report(res: Dict, peak: float) -> None:
    print(f"\n== stage {res['stage']} ==")
    for name, r in res['sides'].items():
        t = r['step_time_s']
        r['mfu'] = r['flops_per_s'] / peak
        print(f"{name:>10}: {r['images_per_s']:.3f} img/s "
              f"(range {r['images_per_s_range'][0]:.3f}-"
              f"{r['images_per_s_range'][1]:.3f}, step median "
              f"{t['median']:.3f}s, cpu "
              f"{r['step_cpu_time_s']['median']:.3f}s, n={t['n']}), "
              f"{r['flops_per_image'] / 1e9:.1f} GFLOP/img, "
              f"{r['flops_per_s'] / 1e9:.1f} GFLOP/s, MFU {r['mfu']:.1%}, "
              f"peak mem {r['peak_bytes'] / 2**20:.0f} MiB "
              f"(step +{r['step_delta_bytes'] / 2**20:.0f} MiB), first "
              f"warm-up step {r.get('first_step_s') or 0:.1f}s")
    if 'ratio' in res:
        for key, what in (('ratio', 'wall'), ('ratio_cpu_time', 'cpu')):
            q = res[key]
            print(f'  ratio mmbeitv2/mmpretrain ({what} time, per pair): '
                  f"median {q['median']:.3f} (min {q['min']:.3f}, q1 "
                  f"{q['q1']:.3f}, q3 {q['q3']:.3f}, max {q['max']:.3f})")


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    # quiet mmengine's per-parameter init report
    MMLogger.get_instance('benchmark_train', log_level='WARNING')
    register_all_modules(init_default_scope=False)
    # MFU against the peak of the dtype the matmuls run in (bf16 autocast:
    # the bf16 peak, on CPUs with AMX / AVX512-BF16 several times fp32's)
    peak_dtype = DTYPES[args.dtype]
    peaks = [matmul_peak(device, peak_dtype)]
    stages = ['vqkd', 'pretrain', 'finetune'] \
        if args.stage == 'all' else [args.stage]
    results = [run_stage(s, args, device) for s in stages]
    peaks.append(matmul_peak(device, peak_dtype))
    peak = max(peaks)
    print(f'\nmachine: {platform.processor() or platform.machine()}, '
          f'torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'device {args.device}, dtype {args.dtype} (mmpretrain '
          f'{args.ref_dtype or args.dtype}), arch {args.arch}, '
          f'batch {args.batch_size}, img {args.img_size}')
    print(f'matmul peak ({peak_dtype}, 2048^2): start '
          f'{peaks[0] / 1e9:.1f}, end {peaks[1] / 1e9:.1f} GFLOP/s')
    for res in results:
        report(res, peak)
    if args.out:
        out = dict(args=vars(args), matmul_peak_flops=peaks,
                   threads=torch.get_num_threads(), results=results)
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)
        print(f'wrote {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
