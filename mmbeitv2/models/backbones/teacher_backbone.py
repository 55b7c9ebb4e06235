# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from mmbeitv2.registry import MODELS


@MODELS.register_module()
class TeacherBackbone(BaseModule):
    """A frozen VQ-KD teacher used as a classification backbone.

    The reference "probe on the teacher's features" of the benchmarks: an
    ``ImageClassifier`` with this backbone and a linear head measures how
    much of the task the teacher's feature map (the tokenizer's target)
    already solves. Input as every teacher: RGB in **[0, 1]** (a data
    preprocessor with ``mean=0, std=255``); the teacher resizes and
    normalises it itself. Output: the feature map averaged over space.

    Frozen in code: the teacher's parameters have no grad, :meth:`train`
    keeps eval mode (BatchNorm statistics stay the ImageNet ones), and the
    forward runs under ``torch.no_grad()``.

    Args:
        teacher (dict): A teacher config, e.g.
            ``dict(type='EfficientNetLite0Teacher', input_size=128)``.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, teacher: dict,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.teacher = MODELS.build(teacher)
        self.teacher.requires_grad_(False)

    def train(self, mode: bool = True) -> 'TeacherBackbone':
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """Args:
            x (torch.Tensor): (B, 3, H, W) images in [0, 1].

        Returns:
            tuple[torch.Tensor]: (B, C) space-averaged teacher features.
        """
        t = self.teacher
        feat = t.extract(t.normalize(t.resize_input(x)))  # (B, C, h, w)
        return (feat.float().mean(dim=(2, 3)), )
