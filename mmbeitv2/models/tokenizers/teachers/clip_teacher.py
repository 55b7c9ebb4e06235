# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_vqkd.py  # noqa: E501
import os.path as osp
from typing import Optional, Tuple

import torch
from torch import nn

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import MODELS
from .base_teacher import BaseTeacher, tokens_to_map, weights_error

PROJECTIONS = ('proj', 'none')


def open_clip_preprocess(model_name: str, tag: Optional[str]) -> dict:
    """open_clip's preprocessing for ``model_name`` with weights ``tag``.

    The same merge ``open_clip.create_model`` does for a pretrained tag
    (``PreprocessCfg`` defaults overlaid with the tag's ``mean``, ``std``,
    ``interpolation``, ...), without downloading anything. ``tag=None``
    takes the model's first listed tag (all tags of one model share their
    preprocessing for the models configured here), so a randomly
    initialised or locally loaded tower is normalised as its release was.
    """
    from dataclasses import asdict

    import open_clip
    from open_clip.transform import PreprocessCfg, merge_preprocess_dict
    if tag is None:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        tag = tags[0] if tags else None
    overlay = open_clip.get_pretrained_cfg(model_name, tag) if tag else {}
    return merge_preprocess_dict(asdict(PreprocessCfg()), overlay)


def _sequence_first_blocks(visual: nn.Module) -> None:
    """Run open_clip's native ViT blocks on (L, B, C) tokens.

    The same math in another memory layout (open_clip's own
    ``batch_first=False``). Why: under autocast ``nn.MultiheadAttention``
    leaves its fused fast path, transposes a batch-first input to a
    non-contiguous (L, B, C) view and projects it with ``F.linear``; for
    such a view PyTorch's matmul broadcasts the weight instead of flattening
    the input, copying a (L, C, 3C) tensor per block and step (197 x 768 x
    2304 values at ViT-B/16): 9.2 s against 0.32 s for a bf16 teacher
    forward of 4 images on one core. ``batch_first=False`` makes one
    contiguous (L, B, C) copy of the tokens before the blocks instead.
    """
    tr = getattr(visual, 'transformer', None)
    if tr is None or not getattr(tr, 'batch_first', False):
        return
    attns = [getattr(block, 'attn', None) for block in tr.resblocks]
    if not all(isinstance(a, nn.MultiheadAttention) for a in attns):
        return  # custom blocks: their attention has no such path
    tr.batch_first = False
    for attn in attns:
        attn.batch_first = False


@MODELS.register_module()
class CLIPTeacher(BaseTeacher):
    """Any open_clip image tower: the paper's VQ-KD target and its
    successors (SigLIP, EVA-CLIP, larger CLIPs).

    Two tower kinds, as open_clip builds them:

    - native ``VisionTransformer`` (``ViT-B-16``, ``ViT-L-14``): the tokens
      after ``ln_post``, [CLS] dropped; ``projection='proj'`` multiplies
      them by ``visual.proj`` (the paper's target: (B, 196, 512) for
      ViT-B/16 at 224, docs/official.md §1.2).
    - timm trunk (``TimmModel``: ``ViT-B-16-SigLIP``, ``EVA02-B-16``): the
      trunk's final-normed tokens (``forward_features``) without its prefix
      tokens; ``projection='proj'`` applies the trunk's ``fc_norm`` and
      ``head`` and open_clip's ``visual.head`` to every token (EVA02-CLIP:
      a Linear to the 512-d joint space). SigLIP has no [CLS] token and
      pools with an attention head (MAP), which is its projection to the
      joint space: there is no per-token projection, use
      ``projection='none'`` (768-d tokens).

    Preprocessing is the model's own (:func:`open_clip_preprocess`): mean,
    std and input size of the pretrained tag (SigLIP: mean = std = 0.5;
    CLIP/EVA: the OpenAI CLIP mean/std), also for random or local weights.

    Args:
        model_name (str): open_clip model name. Defaults to 'ViT-B-16'.
        pretrained (str, optional): open_clip tag (``'openai'``,
            ``'webli'``, ``'merged2b_s8b_b131k'``: downloads to the hub
            cache) or a local weight file (e.g. the hub's
            ``open_clip_pytorch_model.bin``); None for random weights
            (tests). Defaults to 'openai'.
        preprocess_tag (str, optional): Tag whose preprocessing applies
            when ``pretrained`` is a file or None; None takes the model's
            first tag. Defaults to None.
        projection (str): ``'proj'`` (the tower's own projection, applied
            per token) or ``'none'`` (final-normed tokens). Defaults to
            'proj'.
        input_size (int, optional): Run the tower at this size (position
            embedding resampled by open_clip); None = its own size.
            Defaults to None.
        grid_align (str): See :class:`BaseTeacher`.
            Defaults to 'interpolate'.
        model_cfg (dict, optional): Build ``open_clip.model.CLIP(**model_cfg)``
            instead of the named model (small towers in tests);
            preprocessing still comes from ``model_name``. Defaults to None.
    """

    def __init__(self,
                 model_name: str = 'ViT-B-16',
                 pretrained: Optional[str] = 'openai',
                 preprocess_tag: Optional[str] = None,
                 projection: str = 'proj',
                 input_size: Optional[int] = None,
                 grid_align: str = 'interpolate',
                 model_cfg: Optional[dict] = None) -> None:
        try:
            import open_clip
        except ImportError as e:  # pragma: no cover
            raise ImportError('CLIPTeacher needs open_clip_torch') from e
        if projection not in PROJECTIONS:
            raise UserInputError(f'CLIPTeacher: projection={projection!r} '
                                 f'is not one of {PROJECTIONS}')
        is_file = bool(pretrained) and osp.isfile(pretrained)
        if preprocess_tag is None and pretrained and not is_file:
            preprocess_tag = pretrained
        pp = open_clip_preprocess(model_name, preprocess_tag)
        visual = self._build(open_clip, model_name, pretrained, model_cfg,
                             input_size, pp)
        size = visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        patch = (visual.trunk.patch_embed if hasattr(visual, 'trunk') else
                 visual).patch_size[0]
        super().__init__(size, pp['mean'], pp['std'], patch, grid_align)
        self.model_name = model_name
        self.projection = projection
        # Only the image tower; the text tower is dropped.
        self.visual = visual.float()
        _sequence_first_blocks(self.visual)
        self.out_channels = self._check_projection()
        self.freeze()

    @staticmethod
    def _build(open_clip, model_name: str, pretrained: Optional[str],
               model_cfg: Optional[dict], input_size: Optional[int],
               pp: dict) -> nn.Module:
        """The image tower, with ``pp`` as its ``preprocess_cfg``."""
        from open_clip.model import set_model_preprocess_cfg
        if model_cfg is not None:
            model = open_clip.model.CLIP(**model_cfg)
            if hasattr(model.visual, 'trunk'):  # as create_model does
                model.visual.set_input_size(model.visual.image_size)
        elif open_clip.get_model_config(model_name) is None:
            raise UserInputError(
                f'CLIPTeacher: unknown open_clip model {model_name!r}; see '
                'open_clip.list_models()')
        else:
            kwargs = dict(pretrained=pretrained or None,
                          force_image_size=input_size)
            try:
                model = open_clip.create_model(model_name, **kwargs)
            except (RuntimeError, OSError) as e:
                if not pretrained:
                    raise
                raise weights_error(
                    'CLIPTeacher', f'open_clip {model_name!r}',
                    repr(pretrained),
                    "give pretrained='/path/to/open_clip_pytorch_model.bin'"
                    ' (the weights of this model and tag, copied from a '
                    'hub cache)', e) from e
        set_model_preprocess_cfg(
            model, dict(pp, size=model.visual.image_size))
        return model.visual

    def _check_projection(self) -> int:
        """Refuse ``'proj'`` where the projection is a pooling head; return
        the output width."""
        v = self.visual
        if not hasattr(v, 'trunk'):
            if self.projection == 'proj' and v.proj is None:
                raise UserInputError(
                    f'CLIPTeacher: {self.model_name} has no image projection;'
                    " use projection='none'")
            if self.projection == 'proj':
                return v.proj.shape[1]
            return v.ln_post.normalized_shape[0]
        trunk = v.trunk
        pools = getattr(trunk, 'attn_pool', None) is not None or any(
            n == 'pool' for n, _ in v.head.named_children())
        if self.projection == 'proj' and pools:
            raise UserInputError(
                f'CLIPTeacher: {self.model_name} pools with an attention '
                'head, which is its projection (one vector per image, no '
                "per-token projection); use projection='none'")
        with torch.no_grad():
            x = torch.zeros(1, 1, trunk.num_features)
            return self._project(x).shape[-1] if \
                self.projection == 'proj' else x.shape[-1]

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        """Per-token trunk head of a timm tower: (B, N, C) -> (B, N, D)."""
        trunk = self.visual.trunk
        fc_norm = getattr(trunk, 'fc_norm', None) or nn.Identity()
        x = trunk.head(fc_norm(x))
        return self.visual.head(x)

    def set_input_size(self, size: Tuple[int, int]) -> None:
        v = self.visual
        if hasattr(v, 'trunk'):
            v.set_input_size(size)
        else:
            from timm.layers import resample_abs_pos_embed
            grid = (size[0] // v.patch_size[0], size[1] // v.patch_size[1])
            pos = resample_abs_pos_embed(
                v.positional_embedding[None], list(grid),
                old_size=list(v.grid_size), num_prefix_tokens=1)
            v.positional_embedding = nn.Parameter(pos[0], requires_grad=False)
            v.grid_size, v.image_size = grid, tuple(size)
        self.input_size = tuple(size)

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        v = self.visual
        grid = (x.shape[-2] // self.patch_size, x.shape[-1] // self.patch_size)
        if hasattr(v, 'trunk'):
            t = v.trunk
            x = t.forward_features(x)[:, t.num_prefix_tokens:]  # (B, N, C)
            if self.projection == 'proj':
                x = self._project(x)  # (B, N, D)
            return tokens_to_map(x, grid)
        x = v._embeds(x)  # (B, 1+N, C)
        x = v.transformer(x)
        # LayerNorm is per token: dropping [CLS] first leaves a contiguous
        # output, which the projection multiplies as one (B*N, C) matrix
        # (a strided slice would broadcast ``proj`` per image instead)
        x = v.ln_post(x[:, 1:])  # (B, N, C)
        if self.projection == 'proj':
            x = x @ v.proj  # (B, N, D): 512 for B/16, 768 for L/14
        return tokens_to_map(x, grid)
