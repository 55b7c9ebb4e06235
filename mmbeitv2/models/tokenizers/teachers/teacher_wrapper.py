# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, Optional

import torch

from mmbeitv2.registry import MODELS
from .frozen_teacher import FrozenTeacher


class TeacherWrapper(FrozenTeacher):
    """A frozen teacher around another one: what :class:`CachedTeacher` and
    :class:`CenteredTeacher` share.

    The inner teacher is built from its config and is a sub-module, so
    ``.to()`` / ``.cuda()`` reach it. Like every teacher, a wrapper has no
    trainable weights and never leaves eval mode; subclasses implement
    :meth:`FrozenTeacher.targets`.

    Args:
        teacher (dict): The inner teacher's config.
    """

    def __init__(self, teacher: dict) -> None:
        super().__init__()
        self.teacher = MODELS.build(teacher)
        self.eval()

    @property
    def out_channels(self) -> Optional[int]:
        """The inner teacher's feature width (None when it does not say)."""
        return getattr(self.teacher, 'out_channels', None)

    def running_stats(self) -> Dict[str, torch.Tensor]:
        """The inner teacher's (:meth:`FrozenTeacher.running_stats`)."""
        return self.teacher.running_stats()
