# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Our own measurement harnesses (not installed with the package).

Run from the repository root as modules, so ``benchmarks`` is importable
from the working directory::

    python -m benchmarks.benchmark_train --stage pretrain --arch small
    python -m benchmarks.compare_views FOLDER --crops 100
    python -m benchmarks.gpu_check --device cpu --arch tiny --img-size 64
    bash benchmarks/gpu_check.sh [OUT_DIR]

See docs/benchmark.md and docs/data_pipelines.md.
"""
