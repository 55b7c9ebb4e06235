# Copyright (c) mmbeitv2 contributors. All rights reserved.
import functools
from typing import Optional

from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook

from mmbeitv2.registry import HOOKS
from ..rng_state import get_rng_state, set_rng_state


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make a resumed run continue exactly as the run it resumes would have.

    mmengine's checkpoint holds the weights, optimizer, schedulers and
    iteration, but not what decides the remaining data: the global random
    states (augmentations, masks, drop path, mixup) and the seeds the
    dataloader was built with. This hook adds them to every checkpoint
    under ``exact_resume``:

    - ``rng``: the torch, CUDA, numpy and python ``random`` states of every
      rank (gathered; each rank gets its own back);
    - ``sampler_seed``: the train sampler's seed. mmengine's samplers draw a
      random one when built with ``seed=None`` (``diff_rank_seed=True`` or
      no ``randomness.seed``; mmengine/dataset/sampler.py), so a resumed run
      would shuffle differently;
    - ``worker_seed``: the seed mmengine's ``worker_init_fn`` got
      (mmengine/runner/runner.py ``build_dataloader``).

    On resume the seeds are put back before the loop builds its data
    iterator, and the random states right after the loop has positioned the
    data (the custom hook point ``after_resume_data``), i.e. just before the
    first batch of the resumed run is fetched, where the interrupted run
    saved them. Positioning the data without replaying it is the job of
    :class:`ExactResumeEpochBasedTrainLoop` and
    :class:`ExactResumeIterBasedTrainLoop`; with another loop the states are
    restored at ``before_train`` and a warning says the data may differ.

    Data workers (``num_workers > 0``) draw from their own generators,
    seeded anew by ``worker_init_fn`` whenever workers start; those states
    live in the workers and are not saved, so with workers the pipeline's
    random transforms of a resumed run are not those of the uninterrupted
    one (data order and main-process randomness still are).

    The tools add it to every run whose config does not list it. A
    checkpoint without ``exact_resume`` (an older one) resumes as in
    mmengine.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add ``exact_resume`` to ``checkpoint``.

        mmengine's ``Runner.save_checkpoint`` is ``@master_only``: this runs
        on rank 0 alone, so it cannot gather. Every rank's states are
        gathered before, where all ranks are (:func:`gather_rng_states`,
        called by ``SafeCheckpointRunner.save_checkpoint``); without them
        (another runner type) a distributed checkpoint keeps rank 0's
        states only, for every rank.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint about to be saved.
        """
        states = getattr(runner, 'gathered_rng_states', None)
        if states is None or len(states) != get_world_size():
            if get_world_size() > 1:
                runner.logger.warning(
                    'ExactResumeHook: per-rank random states were not '
                    'gathered (use SafeCheckpointRunner); saving rank 0\'s '
                    'for every rank')
            states = [get_rng_state()]
        dataloader = _train_dataloader(runner)
        checkpoint['exact_resume'] = dict(
            rng=states,
            sampler_seed=getattr(_sampler(dataloader), 'seed', None),
            worker_seed=_worker_seed(dataloader))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep ``exact_resume`` of ``checkpoint`` until the run starts.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        self._pending = checkpoint.get('exact_resume')

    def before_train(self, runner) -> None:
        """Put the train sampler's and workers' seeds back (resume only).

        Args:
            runner (Runner): The runner.
        """
        if self._pending is None:
            return
        if runner.iter == 0:
            # weights loaded with `load_from`, not a resume
            self._pending = None
            return
        dataloader = runner.train_loop.dataloader
        sampler = _sampler(dataloader)
        seed = self._pending.get('sampler_seed')
        if seed is not None and hasattr(sampler, 'seed'):
            sampler.seed = seed
        seed = self._pending.get('worker_seed')
        init_fn = getattr(dataloader, 'worker_init_fn', None)
        if seed is not None and _worker_seed(dataloader) is not None:
            dataloader.worker_init_fn = functools.partial(
                init_fn.func, *init_fn.args,
                **dict(init_fn.keywords, seed=seed))
        if not getattr(runner.train_loop, 'positions_resumed_data', False):
            runner.logger.warning(
                f'{type(runner.train_loop).__name__} does not position the '
                'data of a resumed run without replaying it; the random '
                'states are restored now, and the remaining batches may '
                'differ from those of an uninterrupted run')
            self.after_resume_data(runner)

    def after_resume_data(self, runner) -> None:
        """Restore this rank's random states (the loop calls this once the
        data of the resumed run is positioned).

        Args:
            runner (Runner): The runner.
        """
        if self._pending is None:
            return
        states = self._pending['rng']
        rank, world_size = get_rank(), get_world_size()
        if len(states) != world_size:
            runner.logger.warning(
                f'the checkpoint holds the random states of {len(states)} '
                f'ranks, this run has {world_size}; rank r takes those of '
                'saved rank r modulo that count')
        set_rng_state(states[rank % len(states)])
        self._pending = None


def _train_dataloader(runner):
    loop = runner.train_loop
    return getattr(loop, 'dataloader', None)


def _sampler(dataloader):
    return getattr(dataloader, 'sampler', None)


def _worker_seed(dataloader) -> Optional[int]:
    init_fn = getattr(dataloader, 'worker_init_fn', None)
    if isinstance(init_fn, functools.partial):
        return init_fn.keywords.get('seed')
    return None
