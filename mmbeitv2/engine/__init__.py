# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""What mmengine runs: the runner, hooks, loops, optimizer wrappers and
schedulers. The tools' config editing lives in :mod:`mmbeitv2.cli`, the
errors in :mod:`mmbeitv2.errors`, the checkpoint trust policy in
:mod:`mmbeitv2.checkpoint.trust`."""
from .atomic_local_backend import (AtomicLocalBackend, atomic_write_bytes,
                                   atomic_write_text)
from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper
from .hooks import *  # noqa: F401,F403
from .loops import (ExactResumeEpochBasedTrainLoop,
                    ExactResumeIterBasedTrainLoop)
from .runner import SafeCheckpointRunner, build_runner
from .schedulers import LayerDecayCosineAnnealingLR

__all__ = [
    'AtomicLocalBackend', 'atomic_write_bytes', 'atomic_write_text',
    'CPUAutocastOptimWrapper', 'SafeCheckpointRunner', 'build_runner',
    'LayerDecayCosineAnnealingLR', 'ExactResumeEpochBasedTrainLoop',
    'ExactResumeIterBasedTrainLoop'
]
