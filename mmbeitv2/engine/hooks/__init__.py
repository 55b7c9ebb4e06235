# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .codebook_usage_hook import CodebookUsageHook  # noqa: F401
from .exact_resume_hook import ExactResumeHook  # noqa: F401
from .nonfinite_loss_hook import NonFiniteLossHook  # noqa: F401
from .preemption_hook import PreemptionHook  # noqa: F401
