# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from
# https://github.com/microsoft/unilm/blob/master/beit2/vqkd_teacher/dino.py  #
# noqa: E501
from typing import Optional, Sequence

import torch

from mmbeitv2.registry import MODELS
from .base_teacher import BaseTeacher, tokens_to_map

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@MODELS.register_module()
class TimmViTTeacher(BaseTeacher):
    """Any timm ViT (DINO ViT-B/16 in the paper's variant, docs/official.md
    §1.2).

    Target = ``norm(x)[:, prefix:]``, the final-normed patch tokens
    (``forward_features`` without the prefix tokens), (B, 196, 768).

    Args:
        model_name (str): timm name. Defaults to 'vit_base_patch16_224.dino'.
        pretrained (bool): Load timm's weights (network). Defaults to True.
        checkpoint (str, optional): Local weight file instead.
            Defaults to None.
        input_size (int): Defaults to 224.
        mean (Sequence[float]): Defaults to ImageNet's.
        std (Sequence[float]): Defaults to ImageNet's.
        model_kwargs (dict, optional): Extra ``timm.create_model`` kwargs.
            Defaults to None.
    """

    def __init__(self,
                 model_name: str = 'vit_base_patch16_224.dino',
                 pretrained: bool = True,
                 checkpoint: Optional[str] = None,
                 input_size: int = 224,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 model_kwargs: Optional[dict] = None) -> None:
        import timm
        super().__init__(input_size, mean, std)
        kwargs = dict(model_kwargs or {})
        if checkpoint is not None:
            kwargs['pretrained_cfg_overlay'] = dict(file=checkpoint)
        self.model = timm.create_model(
            model_name,
            pretrained=pretrained or checkpoint is not None,
            num_classes=0,
            img_size=input_size,
            **kwargs)
        self.freeze()

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        x = self.model.forward_features(x)  # (B, prefix+N, C), normed
        return tokens_to_map(x[:, self.model.num_prefix_tokens:])
