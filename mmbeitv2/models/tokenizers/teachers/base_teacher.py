# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class BaseTeacher(nn.Module):
    """A frozen feature teacher for VQ-KD.

    Input: images in [0, 1], RGB, at the tokenizer's resolution (the
    tokenizer contract). Each teacher resizes them (bicubic) to its own
    ``input_size``, normalises them its own way (``normalize``), extracts a
    (B, C, h, w) feature map (``extract``), and the map is resampled to the
    tokenizer's patch grid with bilinear interpolation (``antialias=True``
    when shrinking, i.e. area-like averaging) when the grids differ.

    Frozen in code: every parameter has ``requires_grad=False``, ``train()``
    keeps eval mode (BatchNorm/dropout stay frozen), and ``forward`` runs
    under ``torch.no_grad()``.

    Args:
        input_size (int): Resolution the teacher was trained at.
        mean (Sequence[float]): Per-channel mean on [0, 1] values.
        std (Sequence[float]): Per-channel std on [0, 1] values.
    """

    def __init__(self, input_size: int, mean: Sequence[float],
                 std: Sequence[float]) -> None:
        super().__init__()
        self.input_size = input_size
        self.register_buffer(
            'mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer(
            'std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def freeze(self) -> None:
        """Call at the end of a subclass ``__init__``."""
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'BaseTeacher':
        # A teacher never leaves eval mode (house style rule 6).
        return super().train(False)

    def resize_input(self, x: torch.Tensor) -> torch.Tensor:
        """Bicubic resize to ``input_size`` (32-px CIFAR is upsampled)."""
        if x.shape[-2:] == (self.input_size, self.input_size):
            return x
        return F.interpolate(
            x, size=(self.input_size, ) * 2, mode='bicubic',
            align_corners=False)

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> the teacher's normalisation. The official scaling
        layer clamps ``(x+1)*127.5`` to [0, 255] first (docs/official.md §1.2);
        the
        clamp also removes bicubic overshoot."""
        return (x01.clamp(0, 1) - self.mean) / self.std

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised (B, 3, S, S) -> feature map (B, C, h, w)."""
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, x01: torch.Tensor,
                grid: Tuple[int, int]) -> torch.Tensor:
        """Targets for the tokenizer.

        Args:
            x01 (torch.Tensor): (B, 3, H, W) images in [0, 1].
            grid (tuple[int, int]): The tokenizer's patch grid (h, w).

        Returns:
            torch.Tensor: (B, h*w, C) teacher features, raster order.
        """
        feat = self.extract(self.normalize(self.resize_input(x01)))
        if tuple(feat.shape[-2:]) != tuple(grid):
            shrink = feat.shape[-2] > grid[0]
            feat = F.interpolate(
                feat.float(), size=tuple(grid), mode='bilinear',
                align_corners=False, antialias=shrink)
        return feat.flatten(2).transpose(1, 2)  # (B, h*w, C)


def tokens_to_map(tokens: torch.Tensor) -> torch.Tensor:
    """(B, N, C) square token grid -> (B, C, h, w)."""
    b, n, c = tokens.shape
    h = int(round(n**0.5))
    return tokens.transpose(1, 2).reshape(b, c, h, n // h)
