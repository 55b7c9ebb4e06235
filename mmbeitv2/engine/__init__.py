# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .amp import configure_amp
from .atomic_local_backend import (AtomicLocalBackend, atomic_write_bytes,
                                   atomic_write_text)
from mmbeitv2.compat import install_checkpoint_safety
from .checkpoint_safety import (is_trusted, mmengine_safe_globals,
                                trust_checkpoint)
from .cli import (describe_user_error, load_config, prepare_run, run_cli,
                  set_default_dataloaders)
from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper
from .errors import CheckpointLoadError, NonFiniteLossError, UserInputError
from .hooks import *  # noqa: F401,F403
from .loops import (ExactResumeEpochBasedTrainLoop,
                    ExactResumeIterBasedTrainLoop)
from .runner import SafeCheckpointRunner, build_runner
from .schedulers import LayerDecayCosineAnnealingLR
from .test_set import apply_test_set

__all__ = [
    'configure_amp', 'AtomicLocalBackend', 'atomic_write_bytes',
    'atomic_write_text', 'install_checkpoint_safety', 'is_trusted',
    'mmengine_safe_globals', 'trust_checkpoint', 'describe_user_error',
    'load_config', 'prepare_run', 'run_cli', 'set_default_dataloaders',
    'CPUAutocastOptimWrapper', 'CheckpointLoadError', 'NonFiniteLossError',
    'UserInputError', 'SafeCheckpointRunner', 'build_runner',
    'apply_test_set', 'LayerDecayCosineAnnealingLR',
    'ExactResumeEpochBasedTrainLoop', 'ExactResumeIterBasedTrainLoop'
]
