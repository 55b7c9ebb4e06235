# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Fixtures shared by the whole test tree."""
import ipaddress
import socket
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


# Offline switches of the Hugging Face libraries (huggingface_hub, timm's
# hub loader, transformers, datasets): with them set, a download raises at
# once instead of reaching the network. Exported through os.environ, so the
# tools the tests start as subprocesses (which the socket guard below does
# not reach) inherit them.
OFFLINE_ENV = dict(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1',
                   HF_DATASETS_OFFLINE='1')


class NetworkAccessError(RuntimeError):
    """A test tried to connect to a non-loopback address."""


def _is_loopback(family: int, address) -> bool:
    """Whether ``socket.connect(address)`` stays on this machine.

    AF_UNIX (and the other non-IP families: netlink...) is local. For
    AF_INET/AF_INET6, 'localhost', 127.0.0.0/8, ::1 (also IPv4-mapped,
    ::ffff:127.0.0.1) and the unspecified addresses ('', 0.0.0.0, ::,
    which Linux connects to this host). Any other name would need a DNS
    lookup, so it is refused too.
    """
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).split('%')[0]  # IPv6 scope id
    if host in ('', 'localhost'):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, 'ipv4_mapped', None)
    if mapped is not None:
        ip = mapped
    return ip.is_loopback or ip.is_unspecified


def _guarded(method):
    """``socket.socket.connect`` / ``connect_ex`` refusing non-loopback
    addresses before any packet is sent."""

    def connect(self, address):
        if not _is_loopback(self.family, address):
            raise NetworkAccessError(
                f'tests must not use the network: connect to {address!r} '
                'refused (only loopback and AF_UNIX are allowed)')
        return method(self, address)

    connect.__name__ = method.__name__
    connect.__doc__ = method.__doc__
    return connect


@pytest.fixture(autouse=True, scope='session')
def _no_network() -> Iterator[None]:
    """No test reaches the network: ``socket.socket.connect`` and
    ``connect_ex`` refuse every address but loopback and AF_UNIX (in this
    process: ``socket.create_connection``, urllib, requests and
    huggingface_hub all connect through them), and the libraries' offline
    switches are exported for subprocesses (OFFLINE_ENV)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in OFFLINE_ENV.items():
            mp.setenv(key, value)
        for name in ('connect', 'connect_ex'):
            mp.setattr(socket.socket, name,
                       _guarded(getattr(socket.socket, name)))
        yield
