# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The tools' side of a run: command-line arguments, config editing before
the runner is built (precision, default dataloaders, the test set) and the
one-line report of a user's error. Nothing here is run by mmengine."""
from .amp import configure_amp
from .run_cli import (add_launch_args, describe_user_error, load_config,
                      parse_launch_args, prepare_run, run_cli,
                      set_default_dataloaders)
from .test_set import apply_test_set

__all__ = [
    'configure_amp', 'add_launch_args', 'parse_launch_args',
    'describe_user_error', 'load_config', 'prepare_run', 'run_cli',
    'set_default_dataloaders', 'apply_test_set'
]
