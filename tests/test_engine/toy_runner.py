# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""A toy mmengine setup for engine tests: a linear model on random vectors,
trained by :class:`SafeCheckpointRunner` for a few iterations."""
import uuid

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmbeitv2.engine import SafeCheckpointRunner


class ToyModel(BaseModel):
    """Linear model; its loss is NaN on the ``nan_at``-th call (1-based; an
    int or a collection of them)."""

    def __init__(self, nan_at=0) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)
        many = isinstance(nan_at, (list, tuple, set))
        self.nan_at = set(nan_at) if many else {nan_at}
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(list(inputs)))
        if mode != 'loss':
            return out
        self.calls += 1
        loss = out.pow(2).mean()
        if self.calls in self.nan_at:
            loss = loss * float('nan')
        return dict(loss=loss)


class ToyDataset(Dataset):
    metainfo = dict(classes=('a', 'b'))

    def __len__(self) -> int:
        return 8

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=torch.full((4, ), float(idx)))


def toy_runner(work_dir: str,
               max_iters: int = 2,
               nan_at=0,
               **kwargs) -> SafeCheckpointRunner:
    """A runner that checkpoints every iteration into ``work_dir``."""
    cfg = dict(
        model=ToyModel(nan_at),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        param_scheduler=[dict(type='LinearLR', by_epoch=False, end=4)],
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=100),
            checkpoint=dict(
                type='CheckpointHook', interval=1, by_epoch=False)),
        default_scope='mmbeitv2',
        experiment_name=f'toy_{uuid.uuid4().hex}',
        log_level='WARNING')
    cfg.update(kwargs)
    return SafeCheckpointRunner(**cfg)
