# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math

import torch

from mmbeitv2.evaluation import CodebookUsageMetric


def test_usage_perplexity_unused():
    metric = CodebookUsageMetric(num_embed=8)
    metric.dataset_meta = {}
    # Two images, 4 tokens each: codes 0, 1, 2, 3 used twice each.
    outs = [
        dict(tokens=torch.tensor([0, 1, 2, 3]), rec_cos_distance=0.2),
        dict(tokens=torch.tensor([3, 2, 1, 0]), rec_cos_distance=0.4),
    ]
    metric.process({}, outs)
    res = metric.evaluate(size=2)
    assert res['codebook/usage'] == 50.0
    assert res['codebook/unused'] == 4
    assert res['codebook/num_codes'] == 8
    assert math.isclose(res['codebook/perplexity'], 4.0, rel_tol=1e-9)
    assert math.isclose(res['codebook/rec_cos_distance'], 0.3)


def test_collapsed_codebook():
    metric = CodebookUsageMetric(num_embed=4)
    metric.process({}, [dict(tokens=torch.zeros(16, dtype=torch.long))])
    res = metric.evaluate(size=1)
    assert res['codebook/usage'] == 25.0
    assert math.isclose(res['codebook/perplexity'], 1.0)
    assert 'codebook/rec_cos_distance' not in res
