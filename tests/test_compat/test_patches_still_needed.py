# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""One test per patch in :mod:`mmbeitv2.compat`: each checks that the
pinned upstream still behaves the way the patch works around. When one of
these fails after an upgrade, upstream was fixed: remove the patch (and the
test) instead of loosening the assertion."""
import inspect
import sys

import pytest
import torch
from mmengine.logging import HistoryBuffer
from subprocess_utils import run

from mmbeitv2.compat.upstream_messages import (BAD_IMAGE, EMPTY_SCHEDULE,
                                               NO_IMAGES, UNKNOWN_TYPE)


def test_checkpoint_loader_mmengine_cannot_load_its_own_checkpoint(
        tmp_path, checkpoint_safety):
    """mmengine#1655: its local loader + torch's weights_only=True; with
    the patch (installed here by the fixture) the same file loads."""
    from mmengine.runner.checkpoint import CheckpointLoader
    path = str(tmp_path / 'mmengine_style.pth')
    # a logged loss, as mmengine's MessageHub saves it after an iteration
    # (numpy arrays inside its HistoryBuffer)
    torch.save(
        dict(state_dict={'w': torch.zeros(1)},
             message_hub=dict(
                 log_scalars={'loss': HistoryBuffer([0.5], [1])})), path)
    # a fresh process: no allow-list installed by other tests
    code = ('from mmengine.runner.checkpoint import load_from_local\n'
            f'load_from_local({path!r}, "cpu")\n')
    proc = run([sys.executable, '-c', code], capture_output=True,
               text=True, timeout=300)
    assert proc.returncode != 0
    assert 'Weights only load failed' in proc.stderr
    # What the patch provides: mmengine's own entry point for local paths
    # (resume, load_from, tools/test.py) loads that file, safely.
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.zeros(1))
    loss = ckpt['message_hub']['log_scalars']['loss']
    assert isinstance(loss, HistoryBuffer) and loss.current() == 0.5


def test_mmcv_ops_stub_mmcv_lite_has_no_compiled_ops():
    """mmcv-lite ships no ``mmcv._ext``; mmseg imports ``mmcv.ops``."""
    proc = run([sys.executable, '-c', 'import mmcv.ops'],
               capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "No module named 'mmcv._ext'" in proc.stderr


def test_registry_root_link_grandchild_scopes_do_not_resolve():
    """mmengine ``Registry.get`` resolves ``scope.Type`` only among the
    root's direct children; mmbeitv2's registries are grandchildren."""
    from mmengine.registry import Registry
    root = Registry('compat_test_root')
    middle = Registry('compat_test_root', parent=root, scope='compat_mid')
    leaf = Registry('compat_test_root', parent=middle, scope='compat_leaf')
    other = Registry('compat_test_root', parent=root, scope='compat_other')

    class Thing:
        pass

    leaf.register_module(module=Thing)
    assert other.get('compat_leaf.Thing') is None
    root._children['compat_leaf'] = leaf  # what the patch does
    assert other.get('compat_leaf.Thing') is Thing


def test_cpu_distributed_mmengine_assumes_cuda():
    """mmengine's pytorch launcher sets a CUDA device and ``wrap_model``
    passes ``device_ids``, both wrong for a CPU-only gloo run."""
    import mmengine.dist.utils as dist_utils
    from mmengine.runner import Runner
    assert 'torch.cuda.set_device' in inspect.getsource(
        dist_utils._init_dist_pytorch)
    assert "device_ids=[int(os.environ['LOCAL_RANK'])]" in \
        inspect.getsource(Runner.wrap_model)


def test_upstream_messages_still_match(tmp_path):
    """The untyped upstream errors the tools turn into one line."""
    from mmcv.transforms import LoadImageFromFile
    from mmpretrain.datasets import CustomDataset
    (tmp_path / 'empty' / 'cls').mkdir(parents=True)
    with pytest.raises(RuntimeError) as err:
        CustomDataset(data_root=str(tmp_path / 'empty'), data_prefix='')
    assert NO_IMAGES.search(str(err.value)), str(err.value)

    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(AssertionError) as err:
        LoadImageFromFile()(dict(img_path=str(bad)))
    assert BAD_IMAGE.search(str(err.value))['file'] == str(bad)

    from mmpretrain.registry import MODELS
    with pytest.raises(KeyError) as err:
        MODELS.build(dict(type='NoSuchModelAnywhere'))
    match = UNKNOWN_TYPE.match(str(err.value.args[0]))
    assert match and match['type'] == 'NoSuchModelAnywhere'

    from mmengine.optim import LinearLR
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1)
    with pytest.raises(ValueError) as err:
        # a 0.25-epoch warmup on a 2-iteration epoch
        LinearLR.build_iter_from_epoch(
            optimizer, begin=0, end=0.25, epoch_length=2)
    match = EMPTY_SCHEDULE.search(str(err.value))
    assert match and (match['begin'], match['end']) == ('0', '0')


def test_known_warnings_mmcv_lite_warns_on_import():
    code = ('import warnings; warnings.simplefilter("always")\n'
            'import mmcv.cnn.bricks.transformer\n')
    proc = run([sys.executable, '-c', code], capture_output=True,
               text=True, timeout=300)
    from mmbeitv2.compat.known_warnings import MMCV_LITE_DEFORMABLE
    assert MMCV_LITE_DEFORMABLE in proc.stderr


def test_private_mmengine_attributes_we_read_still_exist():
    from mmengine.registry import Registry
    from mmengine.runner import Runner
    source = inspect.getsource(Runner.load_or_resume)
    for name in ('_has_loaded', '_resume', '_load_from'):
        assert f'self.{name}' in source
    assert callable(Registry._search_child)


def test_rel_pos_resize_mmpretrain_needs_scipy_interp2d():
    """mmpretrain's table resize calls ``scipy.interpolate.interp2d``
    (removed in scipy 1.14); mmbeitv2.checkpoint.rel_pos_resize replaces
    it (docs/stack_notes.md #3)."""
    from mmpretrain.models.utils import resize_relative_position_bias_table
    with pytest.raises(NotImplementedError, match='interp2d'):
        resize_relative_position_bias_table(13, 21, torch.zeros(169, 2), 2)


def test_amp_mmengine_amp_wrapper_needs_an_accelerator():
    """``--amp`` on CPU cannot use mmengine's ``AmpOptimWrapper``
    (mmbeitv2.cli.amp keeps fp32 there)."""
    from mmengine.optim import AmpOptimWrapper
    if torch.cuda.is_available():
        pytest.skip('only meaningful without CUDA')
    param = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(AssertionError, match='only available'):
        AmpOptimWrapper(optimizer=torch.optim.SGD([param], lr=0.1))


def test_upstream_messages_of_a_checkpoint_of_another_model(tmp_path):
    """The untyped errors of ``--resume`` / ``init_cfg`` with a checkpoint
    of another model, and the frame locals the tools read the file name
    and its content from (mmbeitv2.cli)."""
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import _load_checkpoint_with_prefix

    from mmbeitv2.compat.upstream_messages import NO_PREFIX, PARAM_GROUPS
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    two = torch.optim.AdamW([{'params': [p]} for p in params])
    one = torch.optim.AdamW(params)
    with pytest.raises(ValueError) as err:
        one.load_state_dict(two.state_dict())
    assert PARAM_GROUPS.match(str(err.value)), str(err.value)
    source = inspect.getsource(Runner.resume)
    assert 'def resume(self,\n' in source and 'filename: str' in source
    assert 'checkpoint = self.load_checkpoint(filename' in source

    path = str(tmp_path / 'tok.pth')
    torch.save(dict(state_dict={'encoder.w': torch.zeros(1)}), path)
    with pytest.raises(AssertionError) as err:
        _load_checkpoint_with_prefix('backbone.', path)
    match = NO_PREFIX.match(str(err.value))
    assert match and match['prefix'] == 'backbone.'
    tb = err.value.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame_locals = tb.tb_frame.f_locals
    assert frame_locals['filename'] == path
    assert 'encoder.w' in frame_locals['checkpoint']['state_dict']
