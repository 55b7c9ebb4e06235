# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/vqkd_teacher/dino.py  # noqa: E501
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import torch

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import MODELS
from .base_teacher import BaseTeacher, tokens_to_map, weights_error

PROJECTIONS = ('none', 'proj')


@MODELS.register_module()
class TimmViTTeacher(BaseTeacher):
    """Any timm ViT: DINO ViT-B/16 (the paper's variant,
    docs/official.md §1.2), DINOv2 (``vit_base_patch14_dinov2``, with or
    without registers), EVA02, timm's CLIP/SigLIP towers, ...

    Target = the final-normed patch tokens (``forward_features`` without
    the prefix tokens: [CLS] and registers), (B, 196, 768) for ViT-B/16 at
    224. ``projection='proj'`` also applies the model's ``fc_norm`` and
    ``head`` to every token (e.g. the 512-d projection of a timm CLIP
    tower); the model must not pool with an attention head then.

    Preprocessing is the model's own: ``mean``, ``std`` and the input size
    default to its ``pretrained_cfg`` (ImageNet mean/std for DINO/DINOv2).
    DINOv2's ``pretrained_cfg`` says 518 px (37x37 patches); its configs
    here set ``input_size=224`` (16x16 patches, the size of the paper's
    teachers; timm resamples the position embedding when loading).

    Args:
        model_name (str): timm name, optionally with a pretrained tag.
            Defaults to 'vit_base_patch16_224.dino'.
        pretrained (bool | str): True loads timm's weights (hub cache,
            downloads when missing), a str loads that local weight file
            (timm's ``pretrained_cfg_overlay=dict(file=...)``: the same
            filtering, e.g. position-embedding resampling), False gives
            random weights (tests). Defaults to True.
        input_size (int, optional): Teacher resolution; None = the model's
            own (``pretrained_cfg['input_size']``). Defaults to None.
        mean (Sequence[float], optional): None = ``pretrained_cfg['mean']``.
            Defaults to None.
        std (Sequence[float], optional): None = ``pretrained_cfg['std']``.
            Defaults to None.
        projection (str): ``'none'`` or ``'proj'``. Defaults to 'none'.
        grid_align (str): See :class:`BaseTeacher`.
            Defaults to 'interpolate'.
        model_kwargs (dict, optional): Extra ``timm.create_model`` kwargs
            (e.g. ``depth=1`` for small test towers). Defaults to None.
    """

    def __init__(self,
                 model_name: str = 'vit_base_patch16_224.dino',
                 pretrained: Union[bool, str] = True,
                 input_size: Optional[int] = None,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 projection: str = 'none',
                 grid_align: str = 'interpolate',
                 model_kwargs: Optional[dict] = None) -> None:
        import timm
        if projection not in PROJECTIONS:
            raise UserInputError(f'TimmViTTeacher: projection={projection!r}'
                                 f' is not one of {PROJECTIONS}')
        if not timm.is_model(model_name):
            raise UserInputError(
                f'TimmViTTeacher: unknown timm model {model_name!r}; see '
                "timm.list_models('vit_*')")
        kwargs = dict(model_kwargs or {})
        if input_size is not None:
            kwargs['img_size'] = input_size
        if projection == 'none':
            kwargs['num_classes'] = 0
        if isinstance(pretrained, str):
            if not osp.isfile(pretrained):
                raise UserInputError(
                    f'TimmViTTeacher: weight file {pretrained} of '
                    f'{model_name} not found; give an existing file or '
                    'pretrained=True')
            kwargs['pretrained_cfg_overlay'] = dict(file=pretrained)
        try:
            model = timm.create_model(
                model_name, pretrained=bool(pretrained), **kwargs)
        except (RuntimeError, OSError) as e:
            if not pretrained:
                raise
            raise weights_error(
                'TimmViTTeacher', f'timm {model_name!r}',
                repr(pretrained) if isinstance(pretrained, str) else
                'the hub', "give pretrained='/path/to/model.safetensors' "
                '(the weights of this model, e.g. copied from a hub cache)',
                e) from e
        cfg = model.pretrained_cfg
        super().__init__(
            tuple(model.patch_embed.img_size),
            cfg['mean'] if mean is None else mean,
            cfg['std'] if std is None else std,
            model.patch_embed.patch_size[0], grid_align)
        if projection == 'proj' and getattr(model, 'attn_pool',
                                            None) is not None:
            raise UserInputError(
                f'TimmViTTeacher: {model_name} pools with an attention head'
                " (no per-token projection); use projection='none'")
        self.model = model
        self.projection = projection
        self.out_channels = model.num_classes if projection == 'proj' \
            else model.num_features
        self.freeze()

    def set_input_size(self, size: Tuple[int, int]) -> None:
        self.model.set_input_size(img_size=tuple(size))
        self.input_size = tuple(size)

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.forward_features(x)[:, m.num_prefix_tokens:]  # (B, N, C)
        if self.projection == 'proj':
            x = m.head(m.fc_norm(x))  # (B, N, D)
        grid = (x.shape[1] // m.patch_embed.grid_size[1],
                m.patch_embed.grid_size[1])
        return tokens_to_map(x, grid)
