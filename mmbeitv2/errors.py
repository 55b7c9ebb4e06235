# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Errors caused by the user's input, reported as one line by the tools."""


class UserInputError(Exception):
    """Bad input (a path, a file, a config value) rather than a bug.

    The message is one line that names the offending thing and says what to
    do. ``tools/train.py`` and ``tools/test.py`` print it without a traceback
    (see :func:`mmbeitv2.cli.run_cli`).
    """


class CheckpointLoadError(UserInputError):
    """A checkpoint file that is missing, truncated, not a checkpoint, or
    holds objects that safe loading refuses to unpickle."""


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or Inf (see ``NonFiniteLossHook``)."""


class CheckpointMismatchError(UserInputError):
    """A readable checkpoint whose tensors do not fit the model the config
    builds (e.g. a tokenizer with another codebook size)."""


class ConfigValueError(UserInputError, ValueError):
    """A config value outside its valid range (e.g. a negative codebook
    size); the message names the value and the valid range."""
