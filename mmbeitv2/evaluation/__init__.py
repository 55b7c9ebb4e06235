# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .codebook_usage_metric import CodebookUsageMetric  # noqa: F401
from .per_layer_accuracy import PerLayerAccuracy  # noqa: F401
from .subset_accuracy import SubsetAccuracy  # noqa: F401
