# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .codebook_usage_hook import CodebookUsageHook  # noqa: F401
from .nonfinite_loss_hook import NonFiniteLossHook  # noqa: F401
