# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/norm_ema_quantizer.py  # noqa: E501
"""Codebook helpers: l2 norm, cosine k-means, usage and perplexity."""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F


def l2norm(t: torch.Tensor) -> torch.Tensor:
    """Unit vectors along the last dimension (as unilm's ``l2norm``)."""
    return F.normalize(t, p=2, dim=-1)


def _sample_vectors(samples: torch.Tensor, num: int) -> torch.Tensor:
    n = samples.shape[0]
    if n >= num:
        idx = torch.randperm(n, device=samples.device)[:num]
    else:
        idx = torch.randint(0, n, (num, ), device=samples.device)
    return samples[idx]


@torch.no_grad()
def cosine_kmeans(samples: torch.Tensor,
                  num_clusters: int,
                  num_iters: int = 10) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cosine k-means of unilm (docs/official.md §1.3.1).

    Args:
        samples (torch.Tensor): (N, D) unit vectors.
        num_clusters (int): K.
        num_iters (int): Iterations. Defaults to 10.

    Returns:
        tuple: means (K, D) unit vectors and the bin counts (K, ) of the last
        assignment; empty clusters keep their previous mean.
    """
    dim = samples.shape[-1]
    means = _sample_vectors(samples, num_clusters)
    bins = None
    for _ in range(num_iters):
        buckets = (samples @ means.t()).max(dim=-1).indices  # (N, )
        bins = torch.bincount(buckets, minlength=num_clusters)  # (K, )
        zero_mask = bins == 0
        new_means = samples.new_zeros(num_clusters, dim)
        new_means.scatter_add_(0, buckets[:, None].expand(-1, dim), samples)
        new_means = l2norm(new_means / bins.masked_fill(zero_mask, 1)[:, None])
        means = torch.where(zero_mask[:, None], means, new_means)
    return means, bins


def codebook_stats(counts: torch.Tensor) -> Dict[str, float]:
    """Usage statistics of a code histogram.

    Args:
        counts (torch.Tensor): (K, ) how often each code was assigned.

    Returns:
        dict: ``usage`` (share of codes hit at least once, 0-1),
        ``perplexity`` (exp of the histogram entropy, in codes) and
        ``unused`` (codes never hit).
    """
    counts = counts.double()
    total = counts.sum().clamp(min=1)
    p = counts / total
    entropy = -(p * torch.log(p.clamp(min=1e-30))).sum()
    used = int((counts > 0).sum().item())
    return dict(
        usage=used / counts.numel(),
        perplexity=float(torch.exp(entropy).item()),
        unused=counts.numel() - used)
