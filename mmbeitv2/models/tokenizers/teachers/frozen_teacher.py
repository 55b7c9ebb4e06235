# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Dict, Optional, Tuple

import torch
from torch import nn


class FrozenTeacher(nn.Module):
    """What every VQ-KD teacher is, a plain one (:class:`BaseTeacher`) or a
    wrapper around one (:class:`CachedTeacher`, :class:`CenteredTeacher`).

    A teacher never leaves eval mode, and ``forward`` turns the tokenizer's
    images into regression targets under ``torch.no_grad()``. ``forward`` is
    the one place of the teacher signature the tokenizer calls; subclasses
    implement :meth:`targets`.
    """

    def train(self, mode: bool = True) -> 'FrozenTeacher':
        # A teacher never leaves eval mode (its BatchNorm/dropout stay
        # frozen), whatever the tokenizer's mode.
        return super().train(False)

    @torch.no_grad()
    def forward(self,
                x01: torch.Tensor,
                grid: Tuple[int, int],
                data_samples: Optional[list] = None,
                update: bool = False) -> torch.Tensor:
        """Targets for the tokenizer (the official ``get_regress_target``).

        Args:
            x01 (torch.Tensor): (B, 3, H, W) images in [0, 1].
            grid (tuple[int, int]): The tokenizer's patch grid (h, w).
            data_samples (list, optional): The batch's samples; a plain
                teacher ignores them, :class:`CachedTeacher` reads their
                view ids. Defaults to None.
            update (bool): Update running statistics first (the tokenizer
                passes ``self.training``); a plain teacher has none,
                :class:`CenteredTeacher` has its mean. Defaults to False.

        Returns:
            torch.Tensor: (B, h*w, C) teacher features, raster order.
        """
        return self.targets(x01, grid, data_samples, update)

    def targets(self, x01: torch.Tensor, grid: Tuple[int, int],
                data_samples: Optional[list], update: bool) -> torch.Tensor:
        """What :meth:`forward` returns (it adds the ``no_grad``)."""
        raise NotImplementedError

    def running_stats(self) -> Dict[str, torch.Tensor]:
        """The tensors training updates in this teacher, by state-dict key.

        The tokenizer saves them in its checkpoint (its frozen weights stay
        out). A plain teacher has none.
        """
        return {}
