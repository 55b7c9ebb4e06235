# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmengine's train loops, positioning the data of a resumed run without
loading what was already trained on."""
import itertools
import logging

from mmengine.dataset import InfiniteSampler
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mmbeitv2.registry import LOOPS
from ..rng_state import get_rng_state, set_rng_state


class _SkipOnce:
    """Stands in for ``batch_sampler.sampler`` for one pass: yields the
    sampler's indices less the first ``num``, then puts the sampler back.

    Only indices are skipped; no sample is loaded or transformed.
    """

    def __init__(self, batch_sampler, num: int) -> None:
        self._owner = batch_sampler
        self._sampler = batch_sampler.sampler
        self._num = num
        batch_sampler.sampler = self

    def __iter__(self):
        self._owner.sampler = self._sampler
        return itertools.islice(iter(self._sampler), self._num, None)

    def __len__(self) -> int:
        return len(self._sampler)


def skip_batches(dataloader: DataLoader, num: int) -> bool:
    """Make the next pass over ``dataloader`` start after ``num`` batches.

    Args:
        dataloader (DataLoader): A dataloader whose next iterator is not yet
            built.
        num (int): Batches to skip.

    Returns:
        bool: False where the batch sampler has no ``sampler`` and
        ``batch_size`` to skip indices of (nothing was changed).
    """
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    batch_size = getattr(batch_sampler, 'batch_size', None)
    if batch_size is None or not hasattr(batch_sampler, 'sampler'):
        return False
    _SkipOnce(batch_sampler, num * batch_size)
    return True


def _warn_replay(num: int) -> None:
    print_log(
        f'the batch sampler cannot skip indices: loading {num} batches to '
        'skip data that has already been trained',
        logger='current',
        level=logging.WARNING)


class _ExactResumeMixin:
    """What both loops share."""

    # ExactResumeHook restores the random states when the data is placed
    positions_resumed_data = True

    def _validate(self) -> None:
        # Validation draws from the global generators too (a dataloader
        # iterator draws its base seed from torch's). Undone here, so the
        # training streams do not depend on whether and when a run
        # validated, e.g. before or after a resume.
        state = get_rng_state()
        self.runner.val_loop.run()
        set_rng_state(state)


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(_ExactResumeMixin, EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` that resumes inside an epoch.

    mmengine's loop (mmengine/runner/loops.py) restarts the epoch of a
    resumed run from its first batch, whatever iteration the checkpoint was
    saved at, so an iteration-level checkpoint trains on part of the epoch
    twice and ends past ``max_epochs * len(dataloader)`` iterations. Here the
    first epoch after a resume skips the batches the checkpoint's run had
    trained on: the sampler, reseeded with the same epoch by
    ``DistSamplerSeedHook``, gives the same order, and the first
    ``iter - epoch * len(dataloader)`` batches of indices are dropped
    without loading them; ``batch_idx`` goes on from where it stopped.
    Validation leaves the random states as it found them.

    The random states are restored by :class:`ExactResumeHook` (hook point
    ``after_resume_data``), which the tools add to every run. Args as
    mmengine's ``EpochBasedTrainLoop``.
    """

    def run(self):
        """Launch training."""
        self.runner.call_hook('before_train')
        self._resumed = self._iter > 0
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()

            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                self._validate()

        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch, or what is left of it after a resume."""
        done = 0
        if getattr(self, '_resumed', False):
            self._resumed = False
            done = self._iter - self._epoch * len(self.dataloader)
            if done == 0:
                # saved at the end of an epoch: the run went on from here
                self.runner.call_hook('after_resume_data')
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        replay = done > 0 and not skip_batches(self.dataloader, done)
        # The iterator draws its base seed from torch's generator, as the
        # interrupted run's did before it saved its states.
        data = iter(self.dataloader)
        if done > 0:
            if replay:
                _warn_replay(done)
                for _ in range(done):
                    next(data)
            self.runner.call_hook('after_resume_data')
        for idx, data_batch in enumerate(data, start=done):
            self.run_iter(idx, data_batch)

        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class ExactResumeIterBasedTrainLoop(_ExactResumeMixin, IterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` that resumes without replaying data.

    mmengine's loop (mmengine/runner/loops.py) skips trained data by
    fetching ``iter`` batches and dropping them: every sample is loaded and
    transformed again (hours into a long run), and with ``num_workers=0``
    those transforms draw from the global generators. Here only the
    sampler's indices are skipped: an ``InfiniteSampler`` restarts its
    stream and drops ``iter * batch_size`` indices; another sampler is set
    to the epoch the run was in and drops that epoch's trained batches.
    Validation leaves the random states as it found them.

    The random states are restored by :class:`ExactResumeHook` (hook point
    ``after_resume_data``), which the tools add to every run. Args as
    mmengine's ``IterBasedTrainLoop``.
    """

    def run(self):
        """Launch training."""
        self.runner.call_hook('before_train')
        # In iteration-based training loop, we treat the whole training process
        # as a big epoch and execute the corresponding hook.
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._position_data()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()

            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)

            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self._validate()

        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _position_data(self) -> None:
        """A data iterator that goes on after the ``iter`` trained batches.
        """
        sampler = self.dataloader.sampler
        if isinstance(sampler, InfiniteSampler):
            epoch, done = 0, self._iter
            # Its index stream is one generator made at build time, which
            # workers may have started with the seed before the resume
            # (mmengine/dataset/sampler.py).
            sampler.indices = sampler._indices_of_rank()
        else:
            # An iterator that ran out restarts at the next epoch
            # (_InfiniteDataloaderIterator); a run saved after the last
            # batch of an epoch resumes at that epoch's end, so the restart
            # happens after the random states are restored, as it did.
            length = len(self.dataloader)
            epoch = (self._iter - 1) // length
            done = self._iter - epoch * length
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(epoch)
        replay = not skip_batches(self.dataloader, done)
        self.dataloader_iterator = _InfiniteDataloaderIterator(
            self.dataloader)
        self.dataloader_iterator._epoch = epoch
        if replay:
            _warn_replay(done)
            for _ in range(done):
                next(self.dataloader_iterator)
        self.runner.call_hook('after_resume_data')
