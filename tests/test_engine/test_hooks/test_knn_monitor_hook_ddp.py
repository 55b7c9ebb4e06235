# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""2-process gloo run of the kNN monitor: each rank embeds its shard of the
bank and query splits (the 7 query images padded to 2 x 4 by the
DefaultSampler), the rows are gathered, and the top-1 and the gathered
features equal those of one process."""
import shutil
import tempfile

import pytest
import torch
from knn_monitor_utils import build_mae, make_image_folder, split_loader
from test_dist.dist_utils import init_gloo, spawn

K = 3


def _hook(root: str):
    from mmengine.registry import DefaultScope

    from mmbeitv2.engine.hooks import KNNMonitorHook
    hook = KNNMonitorHook(
        split_loader(root, 'train', batch_size=2),
        split_loader(root, 'test', batch_size=2), k=K)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        hook.build_loaders(seed=0)
    return hook


def _measure(model, root: str) -> dict:
    from mmengine.model import is_model_wrapper

    from mmbeitv2.engine.hooks.knn_monitor_hook import extract_split
    hook = _hook(root)
    top1, num_bank, num_query = hook.measure(model)
    inner = model.module if is_model_wrapper(model) else model
    inner.backbone.eval()
    query, labels = extract_split(inner, hook._loaders['query'], 'cls')
    return dict(
        top1=top1, sizes=(num_bank, num_query), query=query, labels=labels,
        shard=len(hook._loaders['query'].sampler))


def _worker(rank: int, world: int, out_dir: str, root: str) -> None:
    torch.set_num_threads(1)
    init_gloo(rank, world, out_dir)
    from mmengine.model import MMDistributedDataParallel

    # As SafeCheckpointRunner.wrap_model wraps a CPU model under torchrun:
    # the hook must unwrap it.
    ddp = MMDistributedDataParallel(
        module=build_mae(), device_ids=None, broadcast_buffers=False,
        find_unused_parameters=False)
    torch.save(_measure(ddp, root), f'{out_dir}/rank{rank}.pth')
    torch.distributed.destroy_process_group()


@pytest.mark.integration
def test_two_ranks_equal_one_process(tmp_path):
    root = make_image_folder(tempfile.mkdtemp())
    try:
        spawn(_worker, args=(2, str(tmp_path), root), nprocs=2, timeout=180)
        ranks = [
            torch.load(tmp_path / f'rank{r}.pth', weights_only=False)
            for r in range(2)
        ]
        ref = _measure(build_mae(), root)
    finally:
        shutil.rmtree(root)
    assert ref['shard'] == 7
    assert 0 < ref['top1'] < 100  # a value a gather error would change
    for r, out in enumerate(ranks):
        assert out['shard'] == 4, r  # 7 images padded to 2 x 4
        assert out['sizes'] == ref['sizes'] == (12, 7)
        assert out['top1'] == ref['top1'], r
        assert torch.equal(out['labels'], ref['labels'])
        torch.testing.assert_close(out['query'], ref['query'], rtol=0,
                                   atol=1e-5)
