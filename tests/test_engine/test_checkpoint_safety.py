# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Safe loading of mmengine checkpoints on torch >= 2.6."""
import argparse
import os.path as osp
import pathlib

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from toy_runner import ToyModel, toy_runner

from mmbeitv2.checkpoint.trust import (TRUST_ENV, _history_buffer_getattr,
                                       mmengine_safe_globals, trust_checkpoint)
from mmbeitv2.errors import CheckpointLoadError


def _name(obj) -> str:
    if isinstance(obj, tuple):
        return obj[1]
    return f'{obj.__module__}.{obj.__qualname__}'


class _Touch:
    """Unpickling this would create ``path`` (stands for any code)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path), ))


@pytest.fixture(scope='module')
def mmengine_ckpt(tmp_path_factory, restored_checkpoint_loading) -> str:
    work_dir = str(tmp_path_factory.mktemp('safety'))
    with restored_checkpoint_loading():  # the runner installs the list
        toy_runner(work_dir, max_iters=2).train()
    return osp.join(work_dir, 'iter_2.pth')


def test_allow_list_covers_what_mmengine_saves(mmengine_ckpt):
    # What torch's default list refuses (the allow-list set aside).
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        unsafe = set(
            torch.serialization.get_unsafe_globals_in_checkpoint(
                mmengine_ckpt))
    finally:
        torch.serialization.add_safe_globals(saved)
    # Without the allow-list torch >= 2.6 refuses these (docs/stack_notes.md
    # #2).
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
    allowed = {_name(obj) for obj in mmengine_safe_globals()}
    assert unsafe <= allowed, unsafe - allowed


def test_mmengine_checkpoint_loads_weights_only(checkpoint_safety,
                                                mmengine_ckpt):
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        ckpt = torch.load(mmengine_ckpt, weights_only=True)
    assert ckpt['meta']['iter'] == 2
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert np.isfinite(buffer.current())
    assert {int(s['step']) for s in ckpt['optimizer']['state'].values()} \
        == {2}
    # mmengine's own entry points (resume / load_from) take the same path.
    assert _load_checkpoint(mmengine_ckpt)['meta']['iter'] == 2
    model = ToyModel()
    load_checkpoint(model, mmengine_ckpt, map_location='cpu')
    assert torch.equal(model.linear.weight,
                       ckpt['state_dict']['linear.weight'])


def test_getattr_stand_in_only_reaches_history_buffer_methods():
    from mmengine.logging import HistoryBuffer
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    for obj, name in [(np.ndarray, 'tofile'), (HistoryBuffer, '__init__'),
                      (pathlib.Path, 'touch')]:
        with pytest.raises(Exception, match='not allowed'):
            _history_buffer_getattr(obj, name)


def test_code_in_checkpoint_never_runs(checkpoint_safety, tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'x': _Touch(str(marker))}, path)
    with pytest.raises(CheckpointLoadError) as err:
        _load_checkpoint(path)
    assert not marker.exists()
    message = str(err.value)
    assert '\n' not in message and path in message
    assert 'pathlib' in message and '--trust-checkpoint' in message


def test_explicit_trust_per_file(checkpoint_safety, tmp_path, monkeypatch):
    trusted, env_trusted = str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth')
    for path in (trusted, env_trusted):
        torch.save({'args': argparse.Namespace(lr=0.5)}, path)
        with pytest.raises(CheckpointLoadError, match='argparse.Namespace'):
            _load_checkpoint(path)
    trust_checkpoint(trusted)
    assert _load_checkpoint(trusted)['args'].lr == 0.5
    with pytest.raises(CheckpointLoadError):  # trust is per file
        _load_checkpoint(env_trusted)
    monkeypatch.setenv(TRUST_ENV, env_trusted)
    assert _load_checkpoint(env_trusted)['args'].lr == 0.5


@pytest.mark.parametrize('content', [b'', b'hello, not a checkpoint\n'])
def test_not_a_checkpoint(checkpoint_safety, tmp_path, content):
    path = str(tmp_path / 'junk.pth')
    with open(path, 'wb') as f:
        f.write(content)
    with pytest.raises(CheckpointLoadError,
                       match='not a readable PyTorch checkpoint') as err:
        _load_checkpoint(path)
    assert '\n' not in str(err.value) and path in str(err.value)


def test_truncated_and_missing_checkpoint(checkpoint_safety, tmp_path,
                                          mmengine_ckpt):
    path = str(tmp_path / 'cut.pth')
    with open(mmengine_ckpt, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(CheckpointLoadError, match='truncated'):
        _load_checkpoint(path)
    with pytest.raises(CheckpointLoadError, match='not found'):
        _load_checkpoint(str(tmp_path / 'missing.pth'))
