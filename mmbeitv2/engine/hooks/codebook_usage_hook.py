# Copyright (c) mmbeitv2 contributors. All rights reserved.
import logging
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmbeitv2.errors import ConfigValueError
from mmbeitv2.models.tokenizers.codebook_utils import codebook_stats
from mmbeitv2.registry import HOOKS

# The usual causes of a collapsing VQ-KD codebook and their fixes, most
# effective first (docs/monitor.md; the dead-code restart follows
# lucidrains/vector-quantize-pytorch's expiry of dead codes).
RESTART_OFF = ('no dead-code restart: set model.quantizer.'
               'dead_code_threshold (e.g. 10: a code unused for 10 steps is '
               're-seeded from the batch)')
RESTART_ON = ('dead-code restart is on (dead_code_threshold={}) but codes '
              'die faster than it revives them: lower it')
OTHER_FIXES = (
    'a codebook too large for the data: a smaller K '
    '(model.quantizer.num_embed)',
    "teacher targets that all look alike: check the teacher's input "
    'normalisation (its mean/std match how the teacher was trained)',
    'a too-high lr (optim_wrapper.optimizer.lr)')


@HOOKS.register_module()
class CodebookUsageHook(Hook):
    """Codebook usage of a VQ-KD tokenizer while it trains: the per-epoch
    unused-code count, and alarms when the codebook collapses.

    **Per epoch** (docs/official.md §1.5): before each training epoch the
    quantizer's EMA statistics buffer ``quantize.cluster_size`` is zeroed
    (the official ``reset_cluster_size``); after the epoch the codes whose
    EMA count is still 0 (never hit during the epoch) are counted and logged
    as ``train/codebook_unused`` (and ``train/codebook_used_pct``). That
    buffer is a statistic only: resetting it changes no parameter, no
    codebook vector and no output.

    **Alarms**: a forward hook on ``quantize`` counts the code ids of every
    training step. Every ``interval`` iterations the counts since the last
    check, summed over ranks, give the window's usage (share of the K codes
    hit), perplexity (exp of the entropy of the code histogram) and dead
    codes (codes not hit). One warning line, naming the likely causes and
    fixes, is printed when

    * the usage falls below ``min_usage``,
    * the perplexity falls below ``min_perplexity * K``, or
    * the dead codes grew by more than ``max_new_dead * K`` since the
      first window of the run (the one right after the k-means init).

    Each condition warns once (a later window that fails another one warns
    about that one); when all are back within limits, one info line says
    the codebook recovered, and each can warn again. A window is checked
    only once it holds at least 2 K tokens (else it grows to the next
    check), so that a code's absence is not sampling noise (a uniform
    codebook then shows ~86% usage).

    Args:
        interval (int): Training iterations between two checks. Defaults
            to 100.
        min_usage (float): Lowest healthy share of codes hit in a window.
            Defaults to 0.5 (collapsed runs report 50% and more unused,
            healthy ones 95-100% used; docs/official.md §1.5, §7.4).
        min_perplexity (float): Lowest healthy perplexity, as a share of K.
            Defaults to 0.1 (healthy demo runs: 0.4-0.96 K).
        max_new_dead (float): Largest healthy growth of the dead codes since
            the first window, as a share of K. Defaults to 0.25.
    """
    priority = 'NORMAL'

    def __init__(self,
                 interval: int = 100,
                 min_usage: float = 0.5,
                 min_perplexity: float = 0.1,
                 max_new_dead: float = 0.25) -> None:
        if not (isinstance(interval, int) and interval >= 1):
            raise ConfigValueError(
                f'CodebookUsageHook: interval={interval!r} must be an '
                'integer >= 1 (training iterations between checks)')
        for name, value in (('min_usage', min_usage),
                            ('min_perplexity', min_perplexity),
                            ('max_new_dead', max_new_dead)):
            if not 0 <= value <= 1:
                raise ConfigValueError(
                    f'CodebookUsageHook: {name}={value!r} must be in [0, 1] '
                    '(a share of the codebook size K)')
        self.interval = interval
        self.min_usage = min_usage
        self.min_perplexity = min_perplexity
        self.max_new_dead = max_new_dead
        self._handle = None
        self._counts: Optional[torch.Tensor] = None  # (K, ) this rank's
        self._window_start = 1
        self._first_dead: Optional[int] = None
        self._active = set()  # the conditions warned about

    @staticmethod
    def _quantizer(runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        return getattr(model, 'quantize', None)

    def before_train_epoch(self, runner) -> None:
        quantizer = self._quantizer(runner)
        if quantizer is not None:
            quantizer.reset_cluster_size()

    def after_train_epoch(self, runner) -> None:
        quantizer = self._quantizer(runner)
        if quantizer is None:
            return
        size = quantizer.cluster_size
        unused = int((size == 0).sum().item())
        used_pct = 100. * (1 - unused / size.numel())
        runner.message_hub.update_scalar('train/codebook_unused', unused)
        runner.message_hub.update_scalar('train/codebook_used_pct',
                                         used_pct)
        runner.logger.info(
            f'Epoch {runner.epoch + 1}: unused codes in codebook: {unused} / '
            f'{size.numel()} ({used_pct:.1f}% used)')

    def before_train(self, runner) -> None:
        quantizer = self._quantizer(runner)
        if quantizer is None:
            return
        self._handle = quantizer.register_forward_hook(self._count_codes)
        self._counts = None
        self._window_start = runner.iter + 1
        self._first_dead = None
        self._active = set()

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _count_codes(self, quantizer, args, outputs) -> None:
        """Forward hook: add a training step's code ids to the window."""
        if not quantizer.training:
            return
        idx = outputs[2].detach().flatten()  # (B*H*W, )
        counts = torch.bincount(idx, minlength=quantizer.num_tokens)
        self._counts = counts if self._counts is None else \
            self._counts + counts

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self._handle is None or \
                not self.every_n_train_iters(runner, self.interval):
            return
        quantizer = self._quantizer(runner)
        num_codes = quantizer.num_tokens
        counts = torch.zeros(
            num_codes, dtype=torch.long,
            device=quantizer.embedding.weight.device) \
            if self._counts is None else self._counts.clone()
        all_reduce(counts)  # every rank checks at the same iterations
        if counts.sum() < 2 * num_codes:
            return  # too few tokens yet: the window grows
        self._counts = None
        window = f'iterations {self._window_start}-{runner.iter + 1}'
        self._window_start = runner.iter + 2
        self._check(counts, window, quantizer.dead_code_threshold)

    def _failures(self, stats: dict, num_codes: int) -> Dict[str, str]:
        """The conditions a window fails, each with its numbers."""
        dead = stats['unused']
        if self._first_dead is None:
            self._first_dead = dead  # right after the k-means init
        found = {}
        if stats['usage'] < self.min_usage:
            found['usage'] = (
                f'usage {stats["usage"]:.1%} ({num_codes - dead}/'
                f'{num_codes} codes hit) < min_usage {self.min_usage:.0%}')
        if stats['perplexity'] < self.min_perplexity * num_codes:
            found['perplexity'] = (
                f'perplexity {stats["perplexity"]:.1f} < min_perplexity '
                f'{self.min_perplexity:g} x K = '
                f'{self.min_perplexity * num_codes:g}')
        if dead - self._first_dead > self.max_new_dead * num_codes:
            found['dead codes'] = (
                f'{dead} dead codes, {dead - self._first_dead} more than '
                f'the {self._first_dead} of the first window (> '
                f'max_new_dead {self.max_new_dead:g} x K)')
        return found

    def _check(self, counts: torch.Tensor, window: str,
               dead_code_threshold: int) -> None:
        """Warn about newly failed conditions; tell when all cleared."""
        stats = codebook_stats(counts)
        num_codes = counts.numel()
        found = self._failures(stats, num_codes)
        new = [name for name in found if name not in self._active]
        if new:
            restart = RESTART_ON.format(dead_code_threshold) \
                if dead_code_threshold > 0 else RESTART_OFF
            fixes = '; '.join((restart, ) + OTHER_FIXES)
            print_log(
                'CodebookUsageHook: the VQ-KD codebook is collapsing: '
                f'{"; ".join(found[n] for n in new)} ({window}, '
                f'{int(counts.sum())} tokens over all ranks). Likely causes '
                f'and fixes: {fixes}',
                logger='current', level=logging.WARNING)
            self._active.update(new)
        elif self._active and not found:
            print_log(
                'CodebookUsageHook: the VQ-KD codebook recovered '
                f'({window}): usage {stats["usage"]:.1%}, perplexity '
                f'{stats["perplexity"]:.1f} of K={num_codes}, '
                f'{stats["unused"]} of {num_codes} codes dead; '
                f'{", ".join(sorted(self._active))} within limits again',
                logger='current')
            self._active = set()
