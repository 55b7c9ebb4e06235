# Copyright (c) mmbeitv2 contributors. All rights reserved.
import math
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mmbeitv2.registry import HOOKS
from ..errors import NonFiniteLossError


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first NaN/Inf loss, keeping the last good
    checkpoint.

    It reads the losses ``RuntimeInfoHook`` (priority VERY_HIGH) already copied
    to the host for logging (``message_hub`` scalars ``train/<key>``), so it
    adds no device synchronisation. It runs at priority ABOVE_NORMAL, before
    ``CheckpointHook`` (VERY_LOW), so a step with a non-finite loss is never
    saved. The tools add it to every config that does not list it. """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Sequence[dict]] = None,
                         outputs: Optional[dict] = None) -> None:
        """Raise :class:`NonFiniteLossError` if a logged loss is not finite.

        Args:
            runner (Runner): The training runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (Sequence[dict], optional): The batch. Unused.
            outputs (dict, optional): The model's log variables; only their
                keys are read. Defaults to None.
        """
        keys = [key for key in (outputs or {}) if 'loss' in key] or ['loss']
        bad = {}
        for key in keys:
            name = f'train/{key}'
            if name not in runner.message_hub.log_scalars:
                continue
            value = runner.message_hub.get_scalar(name).current()
            if not math.isfinite(value):
                bad[key] = value
        if not bad:
            return
        # runner.iter counts finished iterations and is not yet incremented,
        # so this is iteration runner.iter + 1 as the log and iter_N.pth name
        # it.
        last = runner.message_hub.get_info('last_ckpt')
        found = ', '.join(f'{k}={v}' for k, v in bad.items())
        kept = (f'the last good checkpoint is {last}' if last else
                'no checkpoint was saved yet')
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} ({found}); '
            f'training stopped, {kept}; lower the learning rate or check the'
            ' data, then resume with --resume')
