# Copyright (c) mmbeitv2 contributors. All rights reserved.
import copy
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmbeitv2.registry import HOOKS
from mmbeitv2.errors import NonFiniteLossError

# Runtime info key of the rollback count: the message hub is saved in every
# checkpoint, so a resumed run keeps counting.
ROLLBACKS_KEY = 'nonfinite_rollbacks'
REMEDIES = (None, 'lr_scale')


def _cpu_copy(obj):
    """``obj`` with every tensor copied to the CPU (nothing shared)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to('cpu', copy=True)
    if isinstance(obj, dict):
        return type(obj)((k, _cpu_copy(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu_copy(v) for v in obj)
    return copy.deepcopy(obj)


def _optimizers(optim_wrapper) -> List[torch.optim.Optimizer]:
    """The torch optimizers of an ``OptimWrapper`` / ``OptimWrapperDict``.
    """
    if hasattr(optim_wrapper, 'optimizer'):
        return [optim_wrapper.optimizer]
    return [wrapper.optimizer for wrapper in optim_wrapper.values()]


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first NaN/Inf loss, keeping the last good
    checkpoint; or, with ``max_rollbacks > 0``, roll back and go on.

    It reads the losses ``RuntimeInfoHook`` (priority VERY_HIGH) already copied
    to the host for logging (``message_hub`` scalars ``train/<key>``), so it
    adds no device synchronisation. It runs at priority ABOVE_NORMAL, before
    ``CheckpointHook`` (VERY_LOW), so a step with a non-finite loss is never
    saved. The tools add it to every config that does not list it.

    Recovery (``max_rollbacks > 0``): at a non-finite loss the model and
    optimizer get back the last good state (``rollback_to='memory'``: a CPU
    copy taken before training and after every ``snapshot_interval``-th
    finite iteration; ``'checkpoint'``: the last checkpoint written), the
    offending batch is dropped (training goes on with the next one, as do
    the iteration counter and the parameter schedules: the batches since
    that state are not replayed) and the named ``remedy`` applies. Each
    rollback is logged and counted (in the message hub, so a resumed run
    keeps counting); the non-finite loss after ``max_rollbacks`` of them
    stops training with the one-line error.

    Args:
        max_rollbacks (int): Rollbacks before training stops. Defaults to 0
            (stop at the first non-finite loss).
        rollback_to (str): ``'memory'`` or ``'checkpoint'``. Defaults to
            ``'memory'``.
        snapshot_interval (int): Iterations between in-memory snapshots
            (each copies the model and optimizer state to the CPU).
            Defaults to 100.
        remedy (str, optional): What changes after a rollback:
            ``'lr_scale'`` (every learning rate times ``lr_factor`` for
            ``remedy_iters`` iterations, on top of the schedule) or None.
            Defaults to ``'lr_scale'``.
        lr_factor (float): See ``remedy``. Defaults to 0.5.
        remedy_iters (int): See ``remedy``. Defaults to 100.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 max_rollbacks: int = 0,
                 rollback_to: str = 'memory',
                 snapshot_interval: int = 100,
                 remedy: Optional[str] = 'lr_scale',
                 lr_factor: float = 0.5,
                 remedy_iters: int = 100) -> None:
        if rollback_to not in ('memory', 'checkpoint'):
            raise ValueError("NonFiniteLossHook: rollback_to must be "
                             f"'memory' or 'checkpoint', not {rollback_to!r}")
        if remedy not in REMEDIES:
            raise ValueError(f'NonFiniteLossHook: remedy must be one of '
                             f'{REMEDIES}, not {remedy!r}')
        self.max_rollbacks = max_rollbacks
        self.rollback_to = rollback_to
        self.snapshot_interval = max(1, snapshot_interval)
        self.remedy = remedy
        self.lr_factor = lr_factor
        self.remedy_iters = remedy_iters
        self._snapshot: Optional[dict] = None
        self._remedy_left = 0
        self._unscaled_lrs: Optional[List[float]] = None

    @property
    def _keeps_snapshots(self) -> bool:
        return self.max_rollbacks > 0 and self.rollback_to == 'memory'

    def before_train(self, runner) -> None:
        """Take the first in-memory snapshot (after any resume)."""
        if self._keeps_snapshots:
            self._take_snapshot(runner, runner.iter)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[Sequence[dict]] = None) -> None:
        """Scale the learning rates while the ``lr_scale`` remedy lasts.

        They are scaled for this step only and set back in
        ``after_train_iter`` before ``ParamSchedulerHook`` (LOW) steps:
        mmengine's schedulers compute the next value from the current one,
        so a lasting change would leak into the schedule.
        """
        if self._remedy_left <= 0:
            return
        groups = [g for o in _optimizers(runner.optim_wrapper)
                  for g in o.param_groups]
        self._unscaled_lrs = [g['lr'] for g in groups]
        for group in groups:
            group['lr'] *= self.lr_factor
        # RuntimeInfoHook (VERY_HIGH) logged the lr before this; log the one
        # the step uses (its names: 'lr', or '<optimizer>.lr' for several).
        for name, lrs in runner.optim_wrapper.get_lr().items():
            runner.message_hub.update_scalar(f'train/{name}', lrs[0])

    def _unscale(self, runner) -> None:
        if self._unscaled_lrs is None:
            return
        groups = [g for o in _optimizers(runner.optim_wrapper)
                  for g in o.param_groups]
        for group, lr in zip(groups, self._unscaled_lrs):
            group['lr'] = lr
        self._unscaled_lrs = None
        self._remedy_left -= 1

    def _non_finite(self, runner,
                    outputs: Optional[dict]) -> Dict[str, float]:
        """The logged losses of this iteration that are NaN/Inf."""
        keys = [key for key in (outputs or {}) if 'loss' in key] or ['loss']
        bad = {}
        for key in keys:
            name = f'train/{key}'
            if name not in runner.message_hub.log_scalars:
                continue
            value = runner.message_hub.get_scalar(name).current()
            if not math.isfinite(value):
                bad[key] = value
        return bad

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Sequence[dict]] = None,
                         outputs: Optional[dict] = None) -> None:
        """Raise :class:`NonFiniteLossError` if a logged loss is not finite
        (or roll back, see the class docstring).

        Args:
            runner (Runner): The training runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (Sequence[dict], optional): The batch. Unused.
            outputs (dict, optional): The model's log variables; only their
                keys are read. Defaults to None.
        """
        self._unscale(runner)
        bad = self._non_finite(runner, outputs)
        if self.max_rollbacks > 0 and get_world_size() > 1:
            # Every rank must roll back together (DDP keeps no copy of the
            # weights in sync otherwise); the losses differ per rank.
            flag = torch.tensor([float(bool(bad))])
            all_reduce(flag, op='max')
            if flag.item() and not bad:
                bad = {'loss (another rank)': float('nan')}
        if not bad:
            if (self._keeps_snapshots
                    and (runner.iter + 1) % self.snapshot_interval == 0):
                self._take_snapshot(runner, runner.iter + 1)
            return
        # runner.iter counts finished iterations and is not yet incremented,
        # so this is iteration runner.iter + 1 as the log and iter_N.pth name
        # it.
        found = ', '.join(f'{k}={v}' for k, v in bad.items())
        rollbacks = runner.message_hub.get_info(ROLLBACKS_KEY, 0)
        source = None
        if rollbacks < self.max_rollbacks:
            source = self._roll_back(runner)
        if source is None:
            self._stop(runner, found, rollbacks)
        rollbacks += 1
        runner.message_hub.update_info(ROLLBACKS_KEY, rollbacks)
        remedy = ''
        if self.remedy == 'lr_scale':
            self._remedy_left = self.remedy_iters
            remedy = (f'; remedy lr_scale: learning rates x{self.lr_factor} '
                      f'for the next {self.remedy_iters} iterations')
        runner.logger.warning(
            f'non-finite loss at iteration {runner.iter + 1} ({found}); '
            f'rollback {rollbacks}/{self.max_rollbacks}: model and optimizer '
            f'restored to {source}, this batch skipped{remedy}')

    def _stop(self, runner, found: str, rollbacks: int) -> None:
        last = runner.message_hub.get_info('last_ckpt')
        kept = (f'the last good checkpoint is {last}' if last else
                'no checkpoint was saved yet')
        after = f' after {rollbacks} rollbacks' if rollbacks else ''
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} ({found})'
            f'{after}; training stopped, {kept}; lower the learning rate or '
            'check the data, then resume with --resume')

    def _model(self, runner) -> torch.nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _take_snapshot(self, runner, done: int) -> None:
        """Copy the model and optimizer state after ``done`` iterations.
        """
        self._snapshot = dict(
            iter=done,
            model=_cpu_copy(self._model(runner).state_dict()),
            optimizer=_cpu_copy(runner.optim_wrapper.state_dict()))

    def _roll_back(self, runner) -> Optional[str]:
        """Load the last good state; return where it came from (None when
        there is none)."""
        if self.rollback_to == 'memory':
            if self._snapshot is None:
                return None
            state = self._snapshot
            where = f'iteration {state["iter"]} (in memory)'
            # deepcopy: torch's Optimizer.load_state_dict keeps CPU tensors
            # as they are, so the live state would alias the snapshot.
            model_state = state['model']
            optim_state = copy.deepcopy(state['optimizer'])
        else:
            from mmbeitv2.checkpoint import load_checkpoint_file
            path = runner.message_hub.get_info('last_ckpt')
            if not path or not osp.isfile(path):
                return None
            ckpt = load_checkpoint_file(path)
            where = f'{path} (iteration {ckpt["meta"]["iter"]})'
            model_state = ckpt['state_dict']
            optim_state = ckpt['optimizer']
        self._model(runner).load_state_dict(model_state)
        # Keep the scheduled hyper-parameters (lr, momentum, ...) of this
        # iteration: the optimizer state dict carries those of the snapshot,
        # and mmengine's schedulers step from the current values.
        optimizers = _optimizers(runner.optim_wrapper)
        current = [[{k: v for k, v in g.items() if k != 'params'}
                    for g in o.param_groups] for o in optimizers]
        runner.optim_wrapper.load_state_dict(optim_state)
        for optimizer, groups in zip(optimizers, current):
            for group, values in zip(optimizer.param_groups, groups):
                group.update(values)
        return where
