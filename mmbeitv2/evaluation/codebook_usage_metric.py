# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Any, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmbeitv2.errors import ConfigValueError
from mmbeitv2.models.tokenizers.codebook_utils import codebook_stats
from mmbeitv2.registry import METRICS


@METRICS.register_module()
class CodebookUsageMetric(BaseMetric):
    """Codebook usage of a tokenizer over a whole validation split.

    As the official ``--calculate_codebook_usage`` (docs/official.md §1.5): the
    token ids of every image (``predict`` outputs of :class:`VQKDTokenizer`)
    are gathered across ranks and counted over the K codes. Reports ``usage``
    (% of codes hit at least once), ``perplexity`` (exp of the entropy of the
    code histogram), ``unused`` (codes never hit), ``num_codes`` (K, since a
    usage figure means nothing without it) and, when the outputs carry it,
    ``rec_cos_distance`` (mean 1 - cos to the teacher).

    Args:
        num_embed (int): Codebook size K. Defaults to 8192.
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Defaults to 'codebook'.
    """
    default_prefix: Optional[str] = 'codebook'

    def __init__(self,
                 num_embed: int = 8192,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_embed = num_embed

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            tokens = sample['tokens'].flatten().long().cpu()
            if tokens.numel() and int(tokens.max()) >= self.num_embed:
                raise ConfigValueError(
                    f'CodebookUsageMetric: token id {int(tokens.max())} >= '
                    f'num_embed={self.num_embed}; set val_evaluator.num_embed '
                    "(and test_evaluator's) to the quantizer's num_embed")
            result = dict(
                counts=torch.bincount(tokens, minlength=self.num_embed))
            if 'rec_cos_distance' in sample:
                result['rec_cos_distance'] = float(sample['rec_cos_distance'])
            self.results.append(result)

    def compute_metrics(self, results: list) -> dict:
        counts = torch.stack([r['counts'] for r in results]).sum(0)
        stats = codebook_stats(counts)
        metrics = dict(
            usage=100. * stats['usage'],
            perplexity=stats['perplexity'],
            unused=stats['unused'],
            num_codes=self.num_embed)
        dists = [r['rec_cos_distance'] for r in results
                 if 'rec_cos_distance' in r]
        if dists:
            metrics['rec_cos_distance'] = sum(dists) / len(dists)
        return metrics
