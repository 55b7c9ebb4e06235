# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Fixtures shared by the test tree."""
import pytest


@pytest.fixture
def safe_loader():
    """mmbeitv2's safe local checkpoint loader, as the runner installs it,
    taken off again after the test (no state leaks between tests)."""
    from mmbeitv2.compat import (install_checkpoint_safety,
                                 uninstall_checkpoint_safety)
    install_checkpoint_safety()
    yield
    uninstall_checkpoint_safety()
