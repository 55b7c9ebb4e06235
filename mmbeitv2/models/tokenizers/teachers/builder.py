# Copyright (c) mmbeitv2 contributors. All rights reserved.
from torch import nn

from mmbeitv2.registry import MODELS


def build_teacher(cfg: dict, out_dims: int) -> nn.Module:
    """Build a VQ-KD teacher, with the demo options as wrappers around it.

    Two keys of the teacher's dict are options, not the teacher's own
    arguments: ``cache=True`` wraps it in :class:`CachedTeacher` (the
    teacher runs once per fixed training view), ``center=True`` (with
    ``center_momentum``, default 0.99) in :class:`CenteredTeacher` (a
    running mean is subtracted from the targets). They stay in the
    teacher's dict so that a config child or ``--cfg-options
    model.teacher.<key>=...`` reaches the teacher the same way with and
    without them.

    Args:
        cfg (dict): The teacher's config, e.g.
            ``dict(type='EfficientNetLite0Teacher', input_size=64,
            cache=True)``.
        out_dims (int): The teacher's feature width (the tokenizer's
            ``decoder_out_dims``), the width of ``CenteredTeacher``'s mean.

    Returns:
        nn.Module: The teacher, wrapped as the options ask.
    """
    cfg = dict(cfg)
    cache = cfg.pop('cache', False)
    center = cfg.pop('center', False)
    # Without center=True a center_momentum stays in and is refused by
    # the teacher's constructor.
    momentum = cfg.pop('center_momentum', 0.99) if center else None
    if cache:
        cfg = dict(type='CachedTeacher', teacher=cfg)
    if center:
        cfg = dict(
            type='CenteredTeacher',
            teacher=cfg,
            out_dims=out_dims,
            momentum=momentum)
    return MODELS.build(cfg)
