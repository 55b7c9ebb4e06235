# Copyright (c) mmbeitv2 contributors. All rights reserved.
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmbeitv2.registry import HOOKS


@HOOKS.register_module()
class CodebookUsageHook(Hook):
    """Per-epoch unused-code count of a VQ-KD tokenizer (docs/official.md
    §1.5).

    Before each training epoch the quantizer's EMA statistics buffer
    ``quantize.cluster_size`` is zeroed (the official
    ``reset_cluster_size``); after the epoch the codes whose EMA count is
    still 0 (never hit during the epoch) are counted and logged as
    ``train/codebook_unused`` (and ``train/codebook_used_pct``). That buffer
    is a statistic only: resetting it changes no parameter, no codebook
    vector and no output.
    """
    priority = 'NORMAL'

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
