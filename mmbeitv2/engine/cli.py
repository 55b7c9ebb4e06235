# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Config loading and one-line error reporting for ``tools/*.py``."""
import os.path as osp
import re
import sys
from typing import Callable, List, Optional

from mmengine.config import Config

from .errors import NonFiniteLossError, UserInputError

_UNKNOWN_TYPE = re.compile(
    r'^(?P<type>\S+) is not in the (?:(?P<scope>[\w.]+)::)?(?P<name>[\w ]+) '
    r'registry')


def load_config(path: str) -> Config:
    """``Config.fromfile`` with a one-line error for a missing file.

    Args:
        path (str): The config file.

    Returns:
        Config: The parsed config.
    """
    if not osp.isfile(path):
        raise UserInputError(
            f'config file not found: {path}; pass the path of a .py config '
            '(e.g. one under configs/), relative to the current directory')
    return Config.fromfile(path)


def _registry_chain(name: str, scope: Optional[str]) -> List[str]:
    """Scopes a lookup in registry ``name`` starting at ``scope`` visits."""
    import mmengine.registry as mmengine_registry
    root = next((reg for reg in vars(mmengine_registry).values()
                 if isinstance(reg, mmengine_registry.Registry)
                 and reg.name == name and reg.parent is None), None)
    if root is None:
        return [scope] if scope else []
    registry = root._search_child(scope) if scope else root
    chain = []
    while registry is not None:
        chain.append(registry.scope)
        registry = registry.parent
    return chain


def describe_user_error(exc: BaseException) -> Optional[str]:
    """The one line to print for ``exc``, or None if it is not a user error.

    Args:
        exc (BaseException): The exception that ended the tool.

    Returns:
        str, optional: The message.
    """
    if isinstance(exc, (UserInputError, NonFiniteLossError)):
        # A DataLoader worker re-raises our error with the worker traceback
        # in front of the message; the original line is the last one.
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        last = lines[-1] if lines else type(exc).__name__
        return re.sub(r'^[\w.]+Error: ', '', last)
    if isinstance(exc, KeyError) and exc.args:
        match = _UNKNOWN_TYPE.match(str(exc.args[0]))
        if match:
            chain = _registry_chain(match['name'], match['scope'])
            searched = ' -> '.join(chain) if chain else 'unknown'
            return (f"unknown type '{match['type']}' in the {match['name']} "
                    f'registry (scopes searched: {searched}); check the '
                    'spelling, or import the module that registers it '
                    '(custom_imports / a scope prefix such as mmpretrain.X)')
    return None


def run_cli(main: Callable[[], object]) -> int:
    """Run a tool's ``main``; user errors end in one line on stderr.

    Args:
        main (Callable): The tool's entry function.

    Returns:
        int: The exit status: 0, 2 for a user error, 1 for a non-finite
        loss (other exceptions
        propagate with their traceback).
    """
    try:
        main()
    except (UserInputError, NonFiniteLossError, KeyError) as exc:
        message = describe_user_error(exc)
        if message is None:
            raise
        sys.stderr.write(f'error: {message}\n')
        return 1 if isinstance(exc, NonFiniteLossError) else 2
    return 0
