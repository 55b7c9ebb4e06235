# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .codebook_usage_hook import CodebookUsageHook
from .exact_resume_hook import ExactResumeHook
from .knn_monitor_hook import KNNMonitorHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .preemption_hook import PreemptionHook

__all__ = [
    'CodebookUsageHook', 'ExactResumeHook', 'KNNMonitorHook',
    'NonFiniteLossHook', 'PreemptionHook'
]
