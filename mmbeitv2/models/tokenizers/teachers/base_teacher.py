# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from mmbeitv2.errors import UserInputError
from .frozen_teacher import FrozenTeacher

GRID_ALIGN_MODES = ('interpolate', 'resize_input')


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


class BaseTeacher(FrozenTeacher):
    """A frozen feature teacher for VQ-KD.

    Input: images in [0, 1], RGB, at the tokenizer's resolution (the
    tokenizer contract). Each teacher resizes them (bicubic) to its own
    ``input_size``, normalises them its own way (``normalize``), extracts a
    (B, C, h, w) feature map (``extract``) and brings it onto the
    tokenizer's patch grid. How the grids are aligned when they differ
    (e.g. a /14 teacher at 224 px gives 16x16, a /16 tokenizer 14x14) is
    the named option ``grid_align``:

    - ``'interpolate'`` (default): the teacher runs at ``input_size`` (the
      size it was trained at) and its map is resampled to the tokenizer's
      grid with bilinear interpolation (``antialias=True`` when shrinking,
      i.e. area-like averaging). When the grids agree (the paper's CLIP-B/16
      at 224 for a /16 tokenizer at 224) nothing is resampled.
    - ``'resize_input'``: the image is resized to ``grid * patch_size``
      (196 px for a /14 teacher and a 14x14 grid), so the teacher's own grid
      is the tokenizer's and nothing is interpolated; the teacher's position
      embedding is resampled once to that grid (:meth:`set_input_size`).
      Only for patch-based teachers.

    Frozen in code: every parameter has ``requires_grad=False``, ``train()``
    keeps eval mode (BatchNorm/dropout stay frozen), and ``forward`` runs
    under ``torch.no_grad()``.

    Args:
        input_size (int | tuple[int, int]): Resolution the teacher was
            trained at.
        mean (Sequence[float]): Per-channel mean on [0, 1] values.
        std (Sequence[float]): Per-channel std on [0, 1] values.
        patch_size (int, optional): The teacher's patch size; needed by
            ``grid_align='resize_input'``. Defaults to None.
        grid_align (str): ``'interpolate'`` or ``'resize_input'``.
            Defaults to 'interpolate'.
    """

    def __init__(self,
                 input_size: Union[int, Tuple[int, int]],
                 mean: Sequence[float],
                 std: Sequence[float],
                 patch_size: Optional[int] = None,
                 grid_align: str = 'interpolate') -> None:
        super().__init__()
        if grid_align not in GRID_ALIGN_MODES:
            raise UserInputError(
                f'{type(self).__name__}: grid_align={grid_align!r} is not '
                f'one of {GRID_ALIGN_MODES}')
        if grid_align == 'resize_input' and patch_size is None:
            raise UserInputError(
                f"{type(self).__name__}: grid_align='resize_input' needs a "
                "patch-based teacher; use grid_align='interpolate'")
        self.input_size = input_size
        self.patch_size = patch_size
        self.grid_align = grid_align
        self.register_buffer(
            'mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer(
            'std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def freeze(self) -> None:
        """Call at the end of a subclass ``__init__``."""
        self.requires_grad_(False)
        self.eval()

    def resize_input(self, x: torch.Tensor) -> torch.Tensor:
        """Bicubic resize to ``input_size`` (32-px CIFAR is upsampled)."""
        size = _pair(self.input_size)
        if tuple(x.shape[-2:]) == size:
            return x
        return F.interpolate(
            x, size=size, mode='bicubic', align_corners=False)

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> the teacher's normalisation. The official scaling layer
        clamps ``(x+1)*127.5`` to [0, 255] first (docs/official.md §1.2); the
        clamp also removes bicubic overshoot."""
        return (x01.clamp(0, 1) - self.mean) / self.std

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised (B, 3, S, S) -> feature map (B, C, h, w)."""
        raise NotImplementedError

    def set_input_size(self, size: Tuple[int, int]) -> None:
        """Make the teacher run at ``size`` (``grid_align='resize_input'``):
        resample its position embedding and set ``input_size``."""
        raise NotImplementedError

    @torch.no_grad()
    def raw_feature_map(self, x01: torch.Tensor,
                        grid: Tuple[int, int]) -> torch.Tensor:
        """The teacher's own (B, C, h', w') map for the tokenizer's grid,
        before :meth:`to_grid` (the expensive part; what
        :class:`CachedTeacher` keeps)."""
        if self.grid_align == 'resize_input':
            size = (grid[0] * self.patch_size, grid[1] * self.patch_size)
            if _pair(self.input_size) != size:
                self.set_input_size(size)
        return self.extract(self.normalize(self.resize_input(x01)))

    @staticmethod
    def to_grid(feat: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """(B, C, h', w') -> (B, C, h, w) on the tokenizer's grid
        (``grid_align='interpolate'``; identity when the grids agree)."""
        if tuple(feat.shape[-2:]) != tuple(grid):
            shrink = feat.shape[-2] > grid[0]
            feat = F.interpolate(
                feat.float(), size=tuple(grid), mode='bilinear',
                align_corners=False, antialias=shrink)
        return feat

    @torch.no_grad()
    def feature_map(self, x01: torch.Tensor,
                    grid: Tuple[int, int]) -> torch.Tensor:
        """Teacher features on the tokenizer's grid.

        Args:
            x01 (torch.Tensor): (B, 3, H, W) images in [0, 1].
            grid (tuple[int, int]): The tokenizer's patch grid (h, w).

        Returns:
            torch.Tensor: (B, C, h, w).
        """
        return self.to_grid(self.raw_feature_map(x01, grid), grid)

    def targets(self, x01: torch.Tensor, grid: Tuple[int, int],
                data_samples: Optional[list], update: bool) -> torch.Tensor:
        """(B, h*w, C) features on the tokenizer's grid; a plain teacher
        reads no samples and has no statistics to update."""
        return map_to_tokens(self.feature_map(x01, grid))


def map_to_tokens(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, h*w, C), raster order."""
    return feat.flatten(2).transpose(1, 2)


def tokens_to_map(tokens: torch.Tensor,
                  grid: Optional[Tuple[int, int]] = None) -> torch.Tensor:
    """(B, N, C) token grid -> (B, C, h, w); square unless ``grid``."""
    b, n, c = tokens.shape
    h = int(round(n**0.5)) if grid is None else grid[0]
    return tokens.transpose(1, 2).reshape(b, c, h, n // h)


def weights_error(teacher: str, model: str, source: str, how: str,
                  cause: BaseException) -> UserInputError:
    """The one-line error for teacher weights that cannot be loaded.

    Args:
        teacher (str): The teacher class name.
        model (str): The model name.
        source (str): Where the weights were looked for.
        how (str): How to provide them.
        cause (BaseException): The library's error (its first line is kept).
    """
    lines = [ln for ln in str(cause).splitlines() if ln.strip()]
    first = lines[0] if lines else type(cause).__name__
    first = first if len(first) <= 150 else first[:147] + '...'
    return UserInputError(
        f'{teacher}: cannot load the weights of {model} from {source} '
        f'({type(cause).__name__}: {first}); on a networked machine they '
        'download to the hub cache (~/.cache/huggingface; set '
        'HF_HUB_OFFLINE=1 to fail fast offline); without network ' + how)
