# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The mmbeitv2 runner: mmengine's ``Runner`` with crash-safe checkpoints."""
import glob
import os.path as osp
import re
from typing import Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint

from mmbeitv2.registry import RUNNERS
from .atomic_local_backend import atomic_write_text
from .compiled_step import compile_step
from .rng_state import gather_rng_states
from mmbeitv2.compat import install_runtime_patches
from mmbeitv2.compat.cpu_distributed import (init_cpu_distributed,
                                             wrap_cpu_ddp)

# Scoped so that it resolves under any default scope (mmseg configs too).
NON_FINITE_HOOK = 'mmbeitv2.NonFiniteLossHook'
EXACT_RESUME_HOOK = 'mmbeitv2.ExactResumeHook'
PREEMPTION_HOOK = 'mmbeitv2.PreemptionHook'
# mmengine's loops -> the ones that position resumed data without replay
EXACT_RESUME_LOOPS = dict(
    EpochBasedTrainLoop='mmbeitv2.ExactResumeEpochBasedTrainLoop',
    IterBasedTrainLoop='mmbeitv2.ExactResumeIterBasedTrainLoop')
_CKPT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume auto`` should continue from.

    ``last_checkpoint`` names it. If that pointer is missing, empty, or names
    a file that does not exist (e.g. a kill while mmengine's CheckpointHook
    rewrote the pointer), fall back to the ``iter_N.pth`` / ``epoch_N.pth``
    in ``work_dir`` with the largest N; every such file is complete because
    the runner writes checkpoints atomically.

    Args:
        work_dir (str): The run's work directory.

    Returns:
        str, optional: The checkpoint path, or None for a fresh start.
    """
    pointed = find_latest_checkpoint(work_dir)
    if pointed and osp.isfile(pointed):
        return pointed
    candidates = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CKPT_NAME.match(osp.basename(path))
        if match:
            candidates.append((int(match.group(1)), path))
    return max(candidates)[1] if candidates else None


@RUNNERS.register_module()
class SafeCheckpointRunner(Runner):
    """mmengine ``Runner`` whose checkpoints survive a kill at any moment.

    Differences from mmengine's runner (none is in the official code):

    - Checkpoints written to local paths go to a temporary file that is
      renamed over the target (:class:`AtomicLocalBackend`), and the
      ``last_checkpoint`` pointer is rewritten atomically right after the
      checkpoint file is complete.
    - ``--resume auto`` uses :func:`find_resumable_checkpoint`, so a damaged
      pointer falls back to the newest complete checkpoint.
    - ``compile`` (``tools/train.py --compile``) compiles the model's
      forward unless ``compile.target='train_step'``, with a one-line
      eager fallback (:mod:`.compiled_step`).
    - Checkpoints are loaded with ``weights_only=True`` and an allow-list
      (:func:`mmbeitv2.compat.install_runtime_patches`).
    """

    def __init__(self, *args, **kwargs) -> None:
        install_runtime_patches()
        super().__init__(*args, **kwargs)

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        # mmengine's save_checkpoint is @master_only, but its callers
        # (CheckpointHook, PreemptionHook) call it on every rank: gather the
        # ranks' random states here, for ExactResumeHook.
        self.gathered_rng_states = gather_rng_states()
        if not is_main_process():
            return
        local = '://' not in str(out_dir)
        if local and backend_args is None and file_client_args is None:
            backend_args = dict(backend='atomic_local')
        super().save_checkpoint(
            out_dir,
            filename,
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        filepath = osp.join(out_dir, filename)
        # CheckpointHook publishes the path in `last_ckpt` just before it
        # calls us; best-checkpoint saves do not, and must not move the
        # pointer.
        if (local and is_main_process()
                and self.message_hub.get_info('last_ckpt') == filepath):
            atomic_write_text(filepath,
                              osp.join(self.work_dir, 'last_checkpoint'))

    def _maybe_compile(self, target: str) -> None:
        """mmengine compiles ``train_step`` when ``cfg.compile`` is set;
        :func:`compile_step` compiles the forward by default, checks the
        backend first and falls back to eager in one line."""
        compile_step(self.model, self.cfg.get('compile', None))

    def wrap_model(self, model_wrapper_cfg: Optional[dict],
                   model: nn.Module) -> nn.Module:
        """mmengine's ``wrap_model``, plus DDP of CPU modules.

        mmengine always passes ``device_ids=[LOCAL_RANK]``, which DDP rejects
        for a CPU module; without CUDA the model is wrapped with
        ``device_ids=None`` instead (``torchrun`` runs on CPU, gloo;
        :mod:`mmbeitv2.compat.cpu_distributed`).
        """
        if (not self.distributed or torch.cuda.is_available()
                or model_wrapper_cfg is not None or is_model_wrapper(model)):
            return super().wrap_model(model_wrapper_cfg, model)
        return wrap_cpu_ddp(
            model, self.cfg.get('find_unused_parameters', False))

    def load_or_resume(self) -> None:
        # Reads mmengine's private _has_loaded/_resume/_load_from (mmengine
        # 0.10.7 has no hook for the auto-resume file; mmbeitv2.compat).
        if (not self._has_loaded and self._resume
                and self._load_from is None):
            resume_from = find_resumable_checkpoint(self.work_dir)
            self.logger.info(
                f'Auto resumed from the latest checkpoint {resume_from}.')
            if resume_from is not None:
                self.resume(resume_from)
            self._has_loaded = True
            return
        super().load_or_resume()


def use_exact_resume_loop(cfg: Config) -> None:
    """Swap mmengine's ``EpochBasedTrainLoop`` / ``IterBasedTrainLoop``
    in ``cfg.train_cfg`` (by ``type`` or ``by_epoch``) for
    :class:`ExactResumeEpochBasedTrainLoop` /
    :class:`ExactResumeIterBasedTrainLoop`. Other loops are kept.

    Args:
        cfg (Config): A full config; changed in place.
    """
    train_cfg = cfg.get('train_cfg')
    if not train_cfg:
        return
    if 'type' in train_cfg:
        name = str(train_cfg['type']).split('.')[-1]
        if name in EXACT_RESUME_LOOPS:
            train_cfg['type'] = EXACT_RESUME_LOOPS[name]
    elif 'by_epoch' in train_cfg:
        # mmengine's build_train_loop reads `by_epoch` only without `type`
        by_epoch = train_cfg.pop('by_epoch')
        train_cfg['type'] = EXACT_RESUME_LOOPS[
            'EpochBasedTrainLoop' if by_epoch else 'IterBasedTrainLoop']


def build_runner(cfg: Config) -> Runner:
    """Build the runner of ``cfg``: ``runner_type`` if given, else
    :class:`SafeCheckpointRunner`. Adds ``NonFiniteLossHook`` and
    ``ExactResumeHook`` (and ``PreemptionHook``: save and exit on SIGTERM /
    SIGUSR1) to ``custom_hooks`` unless the config lists them,
    and uses the exact-resume train loops (:func:`use_exact_resume_loop`).

    Args:
        cfg (Config): A full training/testing config.

    Returns:
        Runner: The runner.
    """
    init_cpu_distributed(cfg)
    hooks = cfg.get('custom_hooks') or []
    if not any('NonFiniteLossHook' in str(h.get('type', '')) for h in hooks):
        hooks = list(hooks) + [dict(type=NON_FINITE_HOOK)]
    if not any('ExactResumeHook' in str(h.get('type', '')) for h in hooks):
        hooks = list(hooks) + [dict(type=EXACT_RESUME_HOOK)]
    # Listed (e.g. with signals=[] to turn it off) or added.
    if not any('PreemptionHook' in str(h.get('type', '')) for h in hooks):
        hooks = list(hooks) + [dict(type=PREEMPTION_HOOK)]
    cfg.custom_hooks = hooks
    use_exact_resume_loop(cfg)
    if 'runner_type' in cfg:
        install_runtime_patches()
        return MMENGINE_RUNNERS.build(cfg)
    return SafeCheckpointRunner.from_cfg(cfg)
