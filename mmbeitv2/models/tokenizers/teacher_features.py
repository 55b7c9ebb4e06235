# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmbeitv2.registry import MODELS
from .teachers.base_teacher import map_to_tokens


@MODELS.register_module()
class TeacherFeatures(BaseModule):
    """The teacher's patch features as the MIM target, with no quantizer:
    a diagnostic deviation from the paper (not BEiT v2's method).

    BEiT v2 predicts the VQ-KD code of each masked patch (paper §3.2). To
    measure what the quantization costs, this target generator gives the
    ``BEiTv2`` algorithm the frozen teacher's features on the same patch
    grid instead (the map the tokenizer's decoder is trained to reconstruct,
    resampled as in :class:`VQKDTokenizer`), l2-normalised per patch; pair
    it with :class:`FeatureRegressionHead`. The student, masks, aggregation
    branch and schedule stay those of the BEiT v2 config.

    Args:
        teacher (dict): A teacher config (e.g. ``EfficientNetLite0Teacher``).
        grid (tuple[int, int]): The student's patch grid (h, w).
        init_cfg (dict, optional): Ignored weights (the teacher loads its
            own); accepted so that a pretraining config's tokenizer
            ``init_cfg`` can stay. Defaults to None.
    """

    def __init__(self,
                 teacher: dict,
                 grid: Tuple[int, int],
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=None)
        self.teacher = MODELS.build(teacher)
        self.grid = tuple(grid)

    @property
    def num_patches(self) -> int:
        return self.grid[0] * self.grid[1]

    @torch.no_grad()
    def get_tokens(self,
                   images: torch.Tensor,
                   query_index: Optional[torch.Tensor] = None
                   ) -> torch.Tensor:
        """l2-normalised teacher features per patch (the name matches the
        tokenizer's, whose place this takes in ``BEiTv2``).

        Args:
            images (torch.Tensor): (B, 3, H, W) in [0, 1].
            query_index (torch.Tensor, optional): (B, 1+M) token indices,
                [CLS] first: the features of those patches only. Defaults
                to None (all).

        Returns:
            torch.Tensor: (B, N, C), or (B, M, C) with ``query_index``.
        """
        maps = self.teacher.raw_feature_map(images, self.grid)
        # (B, C, h', w') -> the student's grid -> (B, N, C)
        feats = F.normalize(
            map_to_tokens(self.teacher.to_grid(maps, self.grid)).float(),
            dim=-1)
        if query_index is None:
            return feats
        pos = query_index[:, 1:] - 1  # patch positions, (B, M)
        return feats.gather(1, pos[..., None].expand(-1, -1, feats.shape[2]))
