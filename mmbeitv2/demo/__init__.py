# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The CPU demo behind ``tools/run_demo.py``: presets, the stage chain, the
results table and pictures, and the maker of the embedded CIFAR-10 subset.

The top layer of the package: it runs the tools and configs of the checkout
and nothing below imports it.
"""
from .cifar10_subset import make_cifar10_subset
from .pipeline import Pipeline
from .presets import DATA_SIZES, PRESETS, PROBES, STAGES
from .report import make_report

__all__ = [
    'DATA_SIZES', 'PRESETS', 'PROBES', 'STAGES', 'Pipeline', 'make_report',
    'make_cifar10_subset'
]
