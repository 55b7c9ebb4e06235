# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The CPU demo behind ``tools/run_demo.py``: presets, the stage chain, the
results table and pictures, and the maker of the embedded CIFAR-10 subset;
and the own-data pipeline of ``tools/pretrain_own_data.py`` on the same
chain.

The top layer of the package: it runs the tools and configs of the checkout
and nothing below imports it.
"""
from .cifar10_subset import make_cifar10_subset
from .own_data import OwnDataPipeline
from .pipeline import Pipeline
from .presets import DATA_SIZES, PRESETS, PROBES, STAGES
from .report import make_report

__all__ = [
    'DATA_SIZES', 'PRESETS', 'PROBES', 'STAGES', 'Pipeline', 'make_report',
    'make_cifar10_subset', 'OwnDataPipeline'
]
