# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""2-process gloo DDP of BEiT v2 pretraining (tiny arch, different data per
rank): after each step the parameters equal one process training on the
concatenated batch, the frozen tokenizer is unchanged on both ranks, and
``find_unused_parameters=False`` works (a parameter without a gradient
would make DDP fail at the second step)."""
import pytest
import torch
from dist_utils import init_gloo, spawn

STEPS, PER_RANK, LR = 2, 2, 0.5
ARCH = dict(embed_dims=32, num_layers=3, num_heads=2, feedforward_channels=64)
TOK = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
K = 32


def _model():
    from mmengine.registry import DefaultScope

    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)  # the same initial weights in every process
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = _build(MODELS)
    model.init_weights()
    return model.train()


def _build(MODELS):
    from tiny_models import beitv2_cfg
    return MODELS.build(beitv2_cfg(ARCH, TOK, num_embed=K, early_layers=2))


def _batch(step: int, rank: int) -> dict:
    """Rank ``rank``'s images and masks at ``step`` (6 of 16 patches masked
    in every image, so each rank's mean loss weighs tokens equally)."""
    from tiny_models import masked_batch
    return masked_batch(PER_RANK, seed=100 * step + rank)


def _concat(step: int, world: int) -> dict:
    parts = [_batch(step, r) for r in range(world)]
    return dict(
        inputs=[
            torch.cat([p['inputs'][i] for p in parts]) for i in range(2)
        ],
        data_samples=[s for p in parts for s in p['data_samples']])


def _optim(model):
    from mmengine.optim import OptimWrapper

    # SGD: the update is the (all-reduced) gradient itself, so a sync
    # error shows 1:1 in the parameters.
    return OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=LR))


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _worker(rank: int, world: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    init_gloo(rank, world, out_dir)
    from mmengine.model import MMDistributedDataParallel
    model = _model()
    before = _state(model.target_generator)
    # As SafeCheckpointRunner.wrap_model wraps a CPU model under torchrun.
    ddp = MMDistributedDataParallel(
        module=model,
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=False)
    wrapper = _optim(model)
    losses = []
    for step in range(STEPS):
        log = ddp.train_step(_batch(step, rank), wrapper)
        losses.append(float(log['loss']))
    torch.save(
        dict(
            state=_state(model),
            tokenizer_before=before,
            tokenizer_after=_state(model.target_generator),
            losses=losses), f'{out_dir}/rank{rank}.pth')
    torch.distributed.destroy_process_group()


@pytest.mark.integration
def test_ddp_step_equals_single_process_on_concatenated_batch(tmp_path):
    spawn(_worker, args=(2, str(tmp_path)), nprocs=2, timeout=240)
    ranks = [
        torch.load(tmp_path / f'rank{r}.pth', weights_only=False)
        for r in range(2)
    ]
    # One process, the two ranks' batches concatenated, same steps.
    model = _model()
    wrapper = _optim(model)
    for step in range(STEPS):
        model.train_step(_concat(step, 2), wrapper)
    ref = _state(model)
    trained = [k for k, p in model.named_parameters() if p.requires_grad]
    assert len(trained) > 50
    for r, out in enumerate(ranks):
        for key, value in ref.items():
            torch.testing.assert_close(
                out['state'][key], value, rtol=0, atol=1e-6,
                msg=f'rank {r}: {key}')
        # The frozen tokenizer did not move on either rank.
        for key, value in out['tokenizer_before'].items():
            assert torch.equal(out['tokenizer_after'][key], value), key
    # The ranks saw different data (different losses), yet ended equal.
    assert ranks[0]['losses'] != ranks[1]['losses']
    # The model moved: the test would catch a step that did nothing.
    start = _state(_model())
    assert any(not torch.equal(start[k], ref[k]) for k in trained)
