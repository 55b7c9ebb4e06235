# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""2-process gloo test: k-means init and EMA statistics are synchronised, so
every rank ends with the same codebook although each sees different data."""
import os

import pytest
import torch
import torch.distributed as dist
from dist_utils import init_gloo, spawn

K, D, STEPS = 32, 8, 4


def _data(rank: int, step: int) -> torch.Tensor:
    # Different data on every rank (a sync test with equal data proves
    # nothing); rank 1's vectors are shifted so they prefer other codes.
    g = torch.Generator().manual_seed(100 * rank + step)
    return torch.randn(2, D, 4, 4, generator=g) + 2.0 * rank


def _worker(rank: int, world: int, out_dir: str) -> None:
    init_gloo(rank, world, out_dir)
    from mmbeitv2.models.tokenizers import NormEMAVectorQuantizer
    torch.manual_seed(rank)  # different RNG per rank, as with diff seeds
    result = {}
    # threshold 0: the paper's rule; 1: dead-code restart every step.
    for threshold in (0, 1):
        q = NormEMAVectorQuantizer(
            num_embed=K, embed_dims=D,
            dead_code_threshold=threshold).train()
        q(_data(rank, 0))  # k-means (rank 0) + broadcast + first EMA step
        after_init = q.embedding.weight.clone()
        for step in range(1, STEPS):
            q(_data(rank, step))
        result[threshold] = dict(
            after_init=after_init,
            weight=q.embedding.weight.clone(),
            cluster_size=q.cluster_size.clone())
    torch.save(result, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def _run(tmp_path):
    # File-store rendezvous (no port to race for) and a deadline.
    spawn(_worker, args=(2, str(tmp_path)), nprocs=2, timeout=180)
    return [
        torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
        for r in range(2)
    ]


@pytest.mark.integration
def test_codebook_synced_across_ranks(tmp_path):
    r0, r1 = _run(tmp_path)
    for threshold in (0, 1):
        for key in ('after_init', 'weight', 'cluster_size'):
            assert torch.equal(r0[threshold][key],
                               r1[threshold][key]), (threshold, key)
    r0 = r0[0]
    # EMA statistics count both ranks' tokens.
    assert r0['cluster_size'].sum() > 0
    # Equal to one process updating on the concatenated batches from the same
    # post-init codebook (bins/embed_sum are SUM-reduced, docs/official.md
    # §1.3.3).
    from mmbeitv2.models.tokenizers import NormEMAVectorQuantizer
    ref = NormEMAVectorQuantizer(num_embed=K, embed_dims=D)
    ref.embedding.initted.fill_(1.)
    with torch.no_grad():
        ref.embedding.weight.copy_(r0['after_init'])
    ref.train()
    for step in range(1, STEPS):
        ref(torch.cat([_data(0, step), _data(1, step)]))
    torch.testing.assert_close(
        ref.embedding.weight, r0['weight'], rtol=0, atol=1e-6)
