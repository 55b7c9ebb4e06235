# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from
# https://github.com/microsoft/unilm/blob/master/beit2/modeling_vqkd.py  #
# noqa: E501
from typing import Optional

import torch

from mmbeitv2.registry import MODELS
from .base_teacher import BaseTeacher, tokens_to_map

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@MODELS.register_module()
class CLIPTeacher(BaseTeacher):
    """CLIP image tower through open_clip: the paper's VQ-KD target.

    Target = ``ln_post(last-layer tokens)[:, 1:] @ visual.proj``, the
    projected patch tokens after the final LayerNorm, (B, 196, 512) for
    ViT-B/16 at 224 (docs/official.md §1.2). Input re-normalised to CLIP
    mean/std.

    Args:
        model_name (str): open_clip model name. Defaults to 'ViT-B-16'.
        pretrained (str, optional): open_clip tag or a local weight file;
            ``'openai'`` downloads. Defaults to 'openai'.
        model_cfg (dict, optional): Build ``open_clip.model.CLIP(**model_cfg)``
            instead of a named model (tests). Defaults to None.
    """

    def __init__(self,
                 model_name: str = 'ViT-B-16',
                 pretrained: Optional[str] = 'openai',
                 model_cfg: Optional[dict] = None) -> None:
        try:
            import open_clip
        except ImportError as e:  # pragma: no cover
            raise ImportError('CLIPTeacher needs open_clip_torch') from e
        if model_cfg is not None:
            model = open_clip.model.CLIP(**model_cfg)
        else:
            model = open_clip.create_model(model_name, pretrained=pretrained)
        visual = model.visual
        size = visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        super().__init__(size, CLIP_MEAN, CLIP_STD)
        # Only the image tower; the text tower is dropped.
        self.visual = visual.float()
        self.freeze()

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        v = self.visual
        x = v._embeds(x)  # (B, 1+N, C)
        x = v.transformer(x)
        x = v.ln_post(x)[:, 1:] @ v.proj  # (B, N, 512)
        return tokens_to_map(x)
