# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import List, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmbeitv2.registry import METRICS


@METRICS.register_module()
class PerLayerAccuracy(BaseMetric):
    """Top-1 accuracy of every probe of ``PerLayerLinearClsHead`` and of the
    best one (the BEiT v1 linear-probe protocol reports the best layer,
    docs/official.md §3.5).

    Reads ``layer_scores`` (L, K) and ``gt_label`` of each data sample.
    Reports ``layer{i}_top1`` for every layer, ``best_top1`` and
    ``best_layer`` (an index into the probed outputs).

    Args:
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str): Defaults to ``'per_layer'``.
    """
    default_prefix = 'per_layer'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            correct = sample['layer_scores'].argmax(dim=-1) == \
                sample['gt_label'].view(-1)[0]
            self.results.append(correct.cpu())  # (L, ) bool

    def compute_metrics(self, results: List[torch.Tensor]) -> dict:
        acc = torch.stack(results).float().mean(dim=0) * 100  # (L, )
        metrics = {f'layer{i}_top1': a.item() for i, a in enumerate(acc)}
        metrics['best_top1'] = acc.max().item()
        metrics['best_layer'] = int(acc.argmax())
        return metrics
