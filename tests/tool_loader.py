# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Import a script of ``tools/`` as a module (the tools are not a
package), for tests that call its functions in-process."""
import importlib.util
import os.path as osp
from types import ModuleType

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))


def load_tool(relpath: str) -> ModuleType:
    """``relpath`` under ``tools/``, e.g. ``'analysis_tools/get_tokens.py'``.
    """
    path = osp.join(REPO, 'tools', relpath)
    name = osp.splitext(osp.basename(path))[0] + '_tool'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
