# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The tools' side of a run: command-line arguments, config editing before
the runner is built (precision, default dataloaders, the test set) and the
one-line report of a user's error. Nothing here is run by mmengine."""
from .amp import configure_amp
from .launch import (add_launch_args, apply_cfg_options, converter_parser,
                     load_config, parse_launch_args, prepare_run,
                     set_default_dataloaders, set_launcher_and_work_dir)
from .run_cli import describe_user_error, run_cli
from .test_set import apply_test_set

__all__ = [
    'configure_amp', 'add_launch_args', 'parse_launch_args',
    'converter_parser',
    'describe_user_error', 'load_config', 'prepare_run', 'run_cli',
    'set_default_dataloaders', 'set_launcher_and_work_dir',
    'apply_cfg_options', 'apply_test_set'
]
