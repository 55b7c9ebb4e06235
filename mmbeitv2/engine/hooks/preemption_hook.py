# Copyright (c) mmbeitv2 contributors. All rights reserved.
import os
import os.path as osp
import signal
from typing import Dict, Optional, Sequence

from mmengine.dist import all_reduce, barrier, get_world_size, \
    is_main_process
from mmengine.hooks import Hook

from mmbeitv2.registry import HOOKS
from ..atomic_local_backend import atomic_write_text

# EX_TEMPFAIL of sysexits.h ("temporary failure, the user is invited to
# retry"): not 0/1/2 (success, non-finite loss, user error) nor 128 + N (a
# process killed by signal N), so tools/slurm_train.sh can tell "saved,
# requeue me" from a crash.
PREEMPTED_EXIT_CODE = 75


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Save a checkpoint and exit when the job is told to stop.

    On one of ``signals`` (Slurm sends SIGTERM before it kills a job, and
    the signal of ``sbatch --signal=USR1@120`` that long before its time
    limit), the handler only sets a flag. At the end of the iteration that
    is running, the hook writes ``iter_<N>.pth`` (the runner's atomic
    checkpoint saving; N counts the finished iterations, mid-epoch too),
    points ``last_checkpoint`` at it and exits with
    :data:`PREEMPTED_EXIT_CODE`, which ``tools/slurm_train.sh`` turns into
    ``scontrol requeue``; the next start with ``--resume`` continues from
    it. The tools add it to every run whose config does not list it.

    A second signal of the same kind before the save falls back to the
    previous handler (e.g. the default SIGTERM: exit at once).

    Args:
        signals (Sequence[str]): Names of the signals to catch; an empty
            list disables the hook. Defaults to ``('SIGTERM', 'SIGUSR1')``.
        exit_code (int): The exit status after the save. Defaults to
            :data:`PREEMPTED_EXIT_CODE` (75).
        dist_sync_interval (int): In a distributed run, every this many
            iterations the ranks agree (one ``all_reduce`` of a flag) on
            whether one of them got a signal, so that all stop after the
            same iteration; a signal is acted on up to this many iterations
            late. Defaults to 1.
    """

    # After CheckpointHook (VERY_LOW): an iteration it saves is not saved
    # twice, and after NonFiniteLossHook (ABOVE_NORMAL), which raises
    # before a non-finite step could be saved.
    priority = 'LOWEST'

    def __init__(self,
                 signals: Sequence[str] = ('SIGTERM', 'SIGUSR1'),
                 exit_code: int = PREEMPTED_EXIT_CODE,
                 dist_sync_interval: int = 1) -> None:
        self.signals = [getattr(signal, name) for name in signals]
        self.exit_code = exit_code
        self.dist_sync_interval = max(1, dist_sync_interval)
        self.received: Optional[int] = None
        self._previous: Dict[int, object] = {}

    def _on_signal(self, signum: int, frame) -> None:
        if self.received == signum:
            # Asked twice: the user (or the scheduler) wants it gone now.
            signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))
            os.kill(os.getpid(), signum)
            return
        self.received = signum

    def before_train(self, runner) -> None:
        """Install the signal handlers (main thread only, as Python's
        ``signal.signal`` requires)."""
        import threading
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning('PreemptionHook: not in the main thread; '
                                  'signals are not caught')
            return
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def after_train(self, runner) -> None:
        """Give the signals their previous handlers back."""
        self._restore()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _stop_now(self, runner) -> Optional[int]:
        """The signal to act on after this iteration, or None."""
        if get_world_size() == 1:
            return self.received
        if (runner.iter + 1) % self.dist_sync_interval:
            return None
        import torch
        flag = torch.tensor([self.received or 0])
        all_reduce(flag, op='max')
        return int(flag.item()) or None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Sequence[dict]] = None,
                         outputs: Optional[dict] = None) -> None:
        """Save and exit if a signal came during this iteration.

        Args:
            runner (Runner): The training runner.
            batch_idx (int): Index of the batch in the epoch. Unused.
            data_batch (Sequence[dict], optional): The batch. Unused.
            outputs (dict, optional): The model's outputs. Unused.

        Raises:
            SystemExit: With ``exit_code``, after the checkpoint is
                written.
        """
        signum = self._stop_now(runner)
        if signum is None:
            return
        # runner.iter is incremented after this hook, so runner.iter + 1
        # iterations are done: the name CheckpointHook gives that state.
        filename = f'iter_{runner.iter + 1}.pth'
        path = osp.join(runner.work_dir, filename)
        if runner.message_hub.get_info('last_ckpt') != path:
            # As CheckpointHook: publish the path first, so that the
            # runner's save_checkpoint also rewrites last_checkpoint.
            runner.message_hub.update_info('last_ckpt', path)
            runner.save_checkpoint(runner.work_dir, filename, by_epoch=False)
        if is_main_process():
            atomic_write_text(path, osp.join(runner.work_dir,
                                             'last_checkpoint'))
        # No rank may exit (srun --kill-on-bad-exit ends the others) before
        # rank 0 has written the file.
        barrier()
        self._restore()
        runner.logger.info(
            f'{signal.Signals(signum).name} received: saved {path} after '
            f'iteration {runner.iter + 1}; exiting with status '
            f'{self.exit_code} (requeue, then resume with --resume)')
        raise SystemExit(self.exit_code)
