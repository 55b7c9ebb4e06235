# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``compile`` (``tools/train.py --compile``): the compiled BEiT v2 step
equals the eager one on a tiny model within the stated tolerance
(docs/benchmark.md: losses rtol 1e-4, weights atol 1e-5 after three AdamW
steps); a backend that cannot run falls back to eager in one line."""
from unittest import mock

import pytest
import torch
from mmengine.optim import OptimWrapper

from tiny_models import beitv2_cfg, masked_batch
from mmbeitv2.engine.compiled_step import (backend_works, compile_step,
                                           split_compile_cfg)
from mmbeitv2.errors import ConfigValueError
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

register_all_modules()

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
TOK_ARCH = dict(
    embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)


def _model():
    torch.manual_seed(0)
    model = MODELS.build(
        beitv2_cfg(ARCH, TOK_ARCH, num_embed=16, early_layers=1))
    model.init_weights()
    return model


def _train(model, steps=3):
    """Losses of ``steps`` real ``train_step`` calls (AdamW) on fixed data."""
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    losses = []
    for step in range(steps):
        log = model.train_step(masked_batch(4, seed=step), wrapper)
        losses.append(float(log['loss']))
    return losses, {n: p.detach().clone() for n, p in model.named_parameters()}


def test_split_compile_cfg():
    assert split_compile_cfg(None) == (None, {})
    assert split_compile_cfg(False) == (None, {})
    assert split_compile_cfg(True) == ('forward', {})
    assert split_compile_cfg(dict(target='train_step', dynamic=False)) == (
        'train_step', dict(dynamic=False))
    with pytest.raises(ConfigValueError, match="compile.target='step'"):
        split_compile_cfg(dict(target='step'))


def test_compiled_step_equals_eager():
    eager_losses, eager_params = _train(_model())
    model = _model()
    with mock.patch('mmbeitv2.engine.compiled_step.print_log') as log:
        assert compile_step(model, True)
        compiled_losses, compiled_params = _train(model)
    assert 'BEiTv2.forward compiled' in log.call_args_list[0].args[0]
    assert 'first forward (compile + step) took' in \
        log.call_args_list[1].args[0]
    # the loss moved, and both runs moved it the same way
    assert eager_losses[0] != eager_losses[-1]
    torch.testing.assert_close(
        torch.tensor(compiled_losses), torch.tensor(eager_losses),
        rtol=1e-4, atol=0)
    for name, value in eager_params.items():
        torch.testing.assert_close(
            compiled_params[name], value, rtol=0, atol=1e-5, msg=name)


def test_backend_that_cannot_run_falls_back_to_eager():
    assert backend_works(backend='eager') is None
    reason = backend_works(backend='no_such_backend')
    assert reason is not None and '\n' not in reason
    model = _model()
    forward = model.forward
    with mock.patch('mmbeitv2.engine.compiled_step.print_log') as log:
        assert not compile_step(model, dict(backend='no_such_backend'))
    assert model.forward == forward  # untouched
    line = log.call_args.args[0]
    assert line.startswith('compile: torch.compile cannot run here (')
    assert 'training eagerly' in line and '\n' not in line
