# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, Optional

import torch
from torch import nn

from mmbeitv2.registry import MODELS


class TeacherWrapper(nn.Module):
    """A frozen teacher around another one: what :class:`CachedTeacher` and
    :class:`CenteredTeacher` share.

    The inner teacher is built from its config and is a sub-module, so
    ``.to()`` / ``.cuda()`` reach it. Like every teacher, a wrapper has no
    trainable weights and never leaves eval mode. Subclasses implement
    ``forward`` with the teacher signature of
    :meth:`BaseTeacher.forward`.

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

    def train(self, mode: bool = True) -> 'TeacherWrapper':
        # A teacher never leaves eval mode (its BatchNorm/dropout stay
        # frozen), whatever the tokenizer's mode.
        return super().train(False)

    def running_stats(self) -> Dict[str, torch.Tensor]:
        """See :meth:`BaseTeacher.running_stats`."""
        return self.teacher.running_stats()
