# Copyright (c) mmbeitv2 contributors. All rights reserved.
from unittest.mock import MagicMock

import torch
from torch import nn

from mmbeitv2.engine.hooks import CodebookUsageHook
from mmbeitv2.models.tokenizers import NormEMAVectorQuantizer


def _runner():
    model = nn.Module()
    model.quantize = NormEMAVectorQuantizer(num_embed=8, embed_dims=4)
    runner = MagicMock()
    runner.model = model
    runner.epoch = 2
    return runner, model.quantize


def test_resets_before_and_counts_unused_after_epoch():
    runner, q = _runner()
    q.cluster_size.fill_(3.)
    weight = q.embedding.weight.clone()
    hook = CodebookUsageHook()
    hook.before_train_epoch(runner)
    assert q.cluster_size.sum() == 0  # official reset_cluster_size
    # Codes 1 and 5 hit during the epoch (EMA > 0), 6 others never.
    q.cluster_size[1] = 0.01
    q.cluster_size[5] = 0.5
    hook.after_train_epoch(runner)
    calls = dict(
        (c.args[0], c.args[1])
        for c in runner.message_hub.update_scalar.call_args_list)
    assert calls['train/codebook_unused'] == 6
    assert calls['train/codebook_used_pct'] == 25.0
    assert 'Epoch 3: unused codes in codebook: 6 / 8' in \
        runner.logger.info.call_args.args[0]
    # Only the statistics buffer was touched, never the codebook.
    assert torch.equal(q.embedding.weight, weight)


def test_model_without_quantizer_is_ignored():
    runner = MagicMock()
    runner.model = nn.Linear(2, 2)
    hook = CodebookUsageHook()
    hook.before_train_epoch(runner)
    hook.after_train_epoch(runner)
    runner.message_hub.update_scalar.assert_not_called()
