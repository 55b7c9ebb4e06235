# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math

import pytest
import torch

from mmbeitv2.errors import ConfigValueError
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


def test_token_id_beyond_num_embed_is_a_one_line_error():
    """A metric configured for fewer codes than the quantizer has (e.g. a
    K=8192 tokenizer with the K=1024 evaluator) names the fix."""
    metric = CodebookUsageMetric(num_embed=4)
    with pytest.raises(ConfigValueError) as err:
        metric.process({}, [dict(tokens=torch.tensor([0, 5]))])
    assert str(err.value) == (
        'CodebookUsageMetric: token id 5 >= num_embed=4; set '
        "val_evaluator.num_embed (and test_evaluator's) to the quantizer's "
        'num_embed')
