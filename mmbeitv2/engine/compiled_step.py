# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``torch.compile`` of the training step, with a one-line fallback.

mmengine compiles ``model.train_step`` when the config has ``compile``
(``Runner._maybe_compile``). Two things are added here (none is in the
official code, which runs eagerly):

- the backend is tried once on a two-op function before the model is
  compiled; where it cannot run (inductor without a C++ compiler, an
  unsupported platform) one log line says so and training stays eager,
  instead of a traceback at the first iteration;
- the first call's seconds (tracing + code generation, on top of the
  step) are logged, so the compile cost sits next to the step time.

``compile`` accepts mmengine's forms (``True`` or ``torch.compile``'s
keyword arguments) plus ``target``: ``'forward'`` (default: the model's
forward, i.e. data preprocessing stays outside and the optimizer step runs
eagerly: the part that is the same for every model) or ``'train_step'``
(mmengine's choice: dynamo also traces the loss parsing and breaks the
graph around the backward and the optimizer).
"""
import time
from typing import Callable, Optional, Tuple, Union

import torch
from mmengine.logging import print_log

TARGETS = ('forward', 'train_step')


def split_compile_cfg(compile_cfg: Union[bool, dict, None]
                      ) -> Tuple[Optional[str], dict]:
    """``(target, torch.compile kwargs)`` of a config's ``compile``; target
    None when compiling is off."""
    if compile_cfg is None or compile_cfg is False:
        return None, {}
    kwargs = {} if compile_cfg is True else dict(compile_cfg)
    target = kwargs.pop('target', 'forward')
    if target not in TARGETS:
        from mmbeitv2.errors import ConfigValueError
        raise ConfigValueError(
            f'compile.target={target!r} is not one of {TARGETS}; e.g. '
            "--cfg-options compile.target=forward")
    return target, kwargs


def backend_works(**kwargs) -> Optional[str]:
    """None if ``torch.compile(**kwargs)`` compiles and runs a two-op
    function here, else the reason in one line."""
    try:
        probe = torch.compile(lambda x: torch.relu(x) * 2 + 1, **kwargs)
        out = probe(torch.linspace(-1, 1, 8))
        expected = torch.relu(torch.linspace(-1, 1, 8)) * 2 + 1
        if not torch.allclose(out, expected):
            return 'the compiled probe computed a wrong result'
    except Exception as exc:  # noqa: BLE001 - any backend failure
        first = next((ln for ln in str(exc).splitlines() if ln.strip()), '')
        return f'{type(exc).__name__}: {first[:160]}'
    return None


def _timed_first_call(func: Callable, name: str) -> Callable:
    """``func`` that logs the seconds of its first call (the compile)."""
    state = dict(first=True)

    def wrapper(*args, **kwargs):
        if not state['first']:
            return func(*args, **kwargs)
        state['first'] = False
        start = time.perf_counter()
        out = func(*args, **kwargs)
        print_log(
            f'torch.compile: first {name} (compile + step) took '
            f'{time.perf_counter() - start:.1f} s',
            logger='current')
        return out

    return wrapper


def compile_step(model: torch.nn.Module,
                 compile_cfg: Union[bool, dict, None]) -> bool:
    """Compile ``model``'s forward or train_step in place, per ``compile``.

    Args:
        model (nn.Module): The runner's model (wrapped or not).
        compile_cfg (bool | dict | None): The config's ``compile``.

    Returns:
        bool: Whether the model was compiled (False: off, or the backend
        cannot run here and training stays eager).
    """
    target, kwargs = split_compile_cfg(compile_cfg)
    if target is None:
        return False
    reason = backend_works(**kwargs)
    if reason is not None:
        print_log(
            f'compile: torch.compile cannot run here ({reason}); training '
            'eagerly (remove `compile` from the config to silence this).',
            logger='current')
        return False
    # The inner model's forward for a wrapper (DDP calls module.forward).
    owner = model.module if hasattr(model, 'module') and \
        target == 'forward' else model
    compiled = torch.compile(getattr(owner, target), **kwargs)
    setattr(owner, target, _timed_first_call(compiled, target))
    print_log(
        f'compile: {type(owner).__name__}.{target} compiled with '
        f'torch.compile({kwargs or ""}); the first iteration traces and '
        'generates code.',
        logger='current')
    return True
