# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Fixtures shared by the whole test tree."""
from contextlib import contextmanager
from typing import Iterator

import pytest
import torch

from mmbeitv2.compat import (install_checkpoint_safety,
                             uninstall_checkpoint_safety)


@contextmanager
def _restored_checkpoint_loading() -> Iterator[None]:
    """Undo, on exit, what install_checkpoint_safety changes in this
    process: torch's safe-globals list and mmengine's local loader."""
    saved = torch.serialization.get_safe_globals()
    try:
        yield
    finally:
        uninstall_checkpoint_safety()
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(saved)


@pytest.fixture
def checkpoint_safety() -> Iterator[None]:
    """mmbeitv2's checkpoint allow-list and safe local loader, installed
    for one test and removed after it."""
    with _restored_checkpoint_loading():
        install_checkpoint_safety()
        yield


@pytest.fixture(scope='session')
def restored_checkpoint_loading():
    """The context manager above, for fixtures of a wider scope (a
    module-scoped runner installs the allow-list before the per-test
    fixtures start)."""
    return _restored_checkpoint_loading


@pytest.fixture(autouse=True)
def _no_checkpoint_loading_leaks() -> Iterator[None]:
    """Runners built in-process (SafeCheckpointRunner, build_runner) install
    the allow-list themselves; remove it after every test, so no test sees
    another's."""
    with _restored_checkpoint_loading():
        yield


@pytest.fixture(autouse=True)
def _no_log_handlers_on_closed_streams() -> Iterator[None]:
    """A logger built during a test (mmengine's MMLogger instances are
    process-wide) keeps a StreamHandler on that test's captured stderr;
    once the capture is closed, the next test's log lines print a "Logging
    error" traceback into its own stderr. Drop such handlers after every
    test (which tests share a process depends on the order and on the
    pytest-xdist worker)."""
    yield
    import logging

    from mmengine.logging import MMLogger
    loggers = [logging.getLogger(), *MMLogger._instance_dict.values(), *(
        lg for lg in logging.Logger.manager.loggerDict.values()
        if isinstance(lg, logging.Logger))]
    for logger in loggers:
        for handler in list(logger.handlers):
            stream = getattr(handler, 'stream', None)
            if stream is not None and getattr(stream, 'closed', False):
                logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def _default_scope_restored() -> Iterator[None]:
    """mmengine's default scope is the last ``DefaultScope`` created in the
    process: a test that builds an mmseg runner leaves ``mmseg`` current,
    and a later test in the same process that builds an mmbeitv2 module
    without naming the scope fails (which tests share a process depends on
    the order and on the pytest-xdist worker). Remove the scopes a test
    created when it ends; module-scoped fixtures create theirs before this
    fixture starts and keep them."""
    from mmengine.registry import DefaultScope
    before = set(DefaultScope._instance_dict)
    yield
    for name in list(DefaultScope._instance_dict):
        if name not in before:
            DefaultScope._instance_dict.pop(name)
