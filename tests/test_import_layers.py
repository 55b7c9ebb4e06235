# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The package's import structure: no circles, no import from a lower layer
to a higher one.

Read from the source (``ast``), so it is fast and imports nothing. Every
``import`` counts, also the ones inside functions: a lazy import still ties
a low module to a high one. Importing ``a.b.c`` runs ``a/__init__`` and
``a/b/__init__`` too, so those count as imported (except the importer's own
parent packages, which are already running when it is imported).
"""
import ast
import os.path as osp
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'mmbeitv2'

# Lowest first. A module may import its own package and anything in a lower
# layer; the errors and the registry are the ground floor.
LAYERS = [
    {'mmbeitv2', 'mmbeitv2.version', 'mmbeitv2.errors', 'mmbeitv2.registry'},
    {'mmbeitv2.checkpoint'},
    {'mmbeitv2.compat'},
    {'mmbeitv2.datasets', 'mmbeitv2.models'},
    {'mmbeitv2.evaluation'},
    {'mmbeitv2.engine'},
    {'mmbeitv2.utils'},  # register_all_modules imports every registry
    {'mmbeitv2.cli', 'mmbeitv2.apis', 'mmbeitv2.seg', 'mmbeitv2.demo'},
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _exists(name: str) -> bool:
    base = ROOT / Path(*name.split('.'))
    return base.with_suffix('.py').is_file() or base.is_dir()


def import_graph() -> dict:
    """``{module: {imported mmbeitv2 modules}}`` of every module."""
    graph = defaultdict(set)
    for path in PACKAGE.rglob('*.py'):
        me = _module_name(path)
        package = me if path.name == '__init__.py' else me.rpartition('.')[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split('.')
                    base = parts[:len(parts) - node.level + 1]
                    module = '.'.join(base + [node.module or '']).rstrip('.')
                else:
                    module = node.module or ''
                # `from pkg import submodule` imports the submodule
                targets = [
                    f'{module}.{a.name}' if _exists(f'{module}.{a.name}')
                    else module for a in node.names
                ]
            for target in targets:
                if not target.startswith('mmbeitv2'):
                    continue
                parts = target.split('.')
                for i in range(1, len(parts) + 1):
                    name = '.'.join(parts[:i])
                    if name != me and not me.startswith(name + '.'):
                        graph[me].add(name)
    return graph


def _layer(module: str) -> int:
    top = '.'.join(module.split('.')[:2])
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f'{module}: add its package to LAYERS')


def test_every_package_has_a_layer():
    for path in PACKAGE.iterdir():
        if path.is_dir() and (path / '__init__.py').is_file() or \
                path.suffix == '.py':
            _layer(_module_name(path if path.suffix else path / '__init__.py'))


def test_no_upward_import():
    upward = sorted(
        f'{a} -> {b}' for a, targets in import_graph().items()
        for b in targets if _layer(b) > _layer(a))
    assert not upward, '\n'.join(upward)


def test_no_import_circle():
    graph = import_graph()
    # Tarjan's strongly connected components
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    assert not circles, circles


@pytest.mark.parametrize('bad', ['circle', 'upward'])
def test_checks_find_a_planted_fault(bad, monkeypatch):
    """The checks are not vacuous: a planted circle or upward import is
    found (the graph of the real tree plus one edge)."""
    real = import_graph()
    planted = defaultdict(set, {k: set(v) for k, v in real.items()})
    if bad == 'circle':
        planted['mmbeitv2.checkpoint.trust'].add('mmbeitv2.checkpoint.io')
        assert 'mmbeitv2.checkpoint.trust' in real['mmbeitv2.checkpoint.io']
        monkeypatch.setitem(globals(), 'import_graph', lambda: planted)
        with pytest.raises(AssertionError):
            test_no_import_circle()
    else:
        planted['mmbeitv2.models.algorithms.beitv2'].add('mmbeitv2.engine')
        monkeypatch.setitem(globals(), 'import_graph', lambda: planted)
        with pytest.raises(AssertionError, match='beitv2 -> mmbeitv2.engine'):
            test_no_upward_import()


def test_graph_sees_relative_and_lazy_imports():
    graph = import_graph()
    # relative, module level
    assert 'mmbeitv2.checkpoint.official_keys' in \
        graph['mmbeitv2.checkpoint.layouts']
    # inside a function
    assert 'mmbeitv2.checkpoint.trust' in graph['mmbeitv2.checkpoint.io']
    assert osp.isfile(PACKAGE / 'errors.py')
