# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_pretrain.py  # noqa: E501
# and https://github.com/microsoft/unilm/blob/master/beit2/modeling_finetune.py  # noqa: E501
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmbeitv2.registry import MODELS
from ..utils.beit_block import BEiTBlock
from ..utils.relative_position_bias import RelativePositionBias
from mmbeitv2.checkpoint import loads_pretrained
from mmbeitv2.checkpoint.vit_state_dict import prepare_state_dict


class PatchEmbed(nn.Module):
    """Conv patch embedding; ``projection`` is mmpretrain's name."""

    def __init__(self, in_channels: int, embed_dims: int,
                 patch_size: int) -> None:
        super().__init__()
        self.projection = nn.Conv2d(
            in_channels, embed_dims, kernel_size=patch_size,
            stride=patch_size)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple]:
        x = self.projection(x)  # (B, C, H, W)
        hw = tuple(x.shape[2:])
        return x.flatten(2).transpose(1, 2), hw  # (B, H*W, C)


@MODELS.register_module()
class BEiTv2ViT(BaseModule):
    """The ViT of BEiT v2, for pretraining, fine-tuning and segmentation.

    One class covers the three official variants (docs/official.md §2.1, §3.1,
    §4): pretraining (one shared zero-init relative position bias, mask token,
    layer scale), fine-tuning/segmentation (per-block tables) and the VQ-KD
    encoder (absolute position embedding, no layer scale). Parameter names
    follow mmpretrain's ``BEiTViT``/``BEiTPretrainViT`` (``layers.i``,
    ``patch_embed.projection``, ``ln1`` final norm, ``ln2`` pooled norm), so
    weights move between mmbeitv2, mmpretrain and mmsegmentation. It differs
    from them in the fused attention path, the official initialisations and a
    scipy-free relative-position resize when loading.

    Args:
        arch (str | dict): ``'small'``, ``'base'``, ``'large'`` or a dict with
            ``embed_dims``, ``num_layers``, ``num_heads``,
            ``feedforward_channels``. Defaults to ``'base'``.
        img_size (int): Input size. Defaults to 224.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int] | int): Blocks whose outputs are returned.
            Defaults to -1.
        out_type (str): ``'raw'`` (B, N+1, C), ``'cls_token'`` (B, C),
            ``'featmap'`` (B, C, H, W) or ``'avg_featmap'`` (``ln2`` of the
            mean patch token, the official fine-tune pooling). Defaults to
            ``'raw'``.
        final_norm (bool): Apply ``ln1`` after the last block.
            Defaults to False.
        layer_scale_init_value (float): 0.1 base / 1e-5 large pretraining,
            0 for none. Defaults to 0.1.
        use_abs_pos_emb (bool): Learned absolute positions. Defaults to False.
        use_shared_rel_pos_bias (bool): One table for all blocks
            (pretraining). Defaults to True.
        use_rel_pos_bias (bool): One table per block (fine-tuning).
            Defaults to False.
        with_mask_token (bool): Learn a mask token. Defaults to False.
        drop_path_rate (float): Max stochastic depth. Defaults to 0.
        init_style (str): ``'pretrain'`` truncates the N(0, .02) init at
            +-1 sigma as the official pretraining does; ``'finetune'`` uses
            timm's +-2 (absolute) bounds and keeps PyTorch's conv init
            (docs/official.md §6.1). Defaults to ``'pretrain'``.
        use_sdpa (bool): Fused attention. Defaults to True.
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        frozen (bool): Freeze every parameter and keep eval mode (linear
            probing). Defaults to False.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.')``.
    """
    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], dict(embed_dims=192, num_layers=12,
                                            num_heads=3,
                                            feedforward_channels=768)),
        **dict.fromkeys(['s', 'small'], dict(embed_dims=384, num_layers=12,
                                             num_heads=6,
                                             feedforward_channels=1536)),
        **dict.fromkeys(['b', 'base'], dict(embed_dims=768, num_layers=12,
                                            num_heads=12,
                                            feedforward_channels=3072)),
        **dict.fromkeys(['l', 'large'], dict(embed_dims=1024, num_layers=24,
                                             num_heads=16,
                                             feedforward_channels=4096)),
    }
    num_extra_tokens = 1  # [CLS]

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 out_indices: Union[Sequence[int], int] = -1,
                 out_type: str = 'raw',
                 final_norm: bool = False,
                 layer_scale_init_value: float = 0.1,
                 use_abs_pos_emb: bool = False,
                 use_shared_rel_pos_bias: bool = True,
                 use_rel_pos_bias: bool = False,
                 with_mask_token: bool = False,
                 drop_path_rate: float = 0.,
                 init_style: str = 'pretrain',
                 use_sdpa: bool = True,
                 with_cp: bool = False,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        arch = self.arch_zoo[arch] if isinstance(arch, str) else arch
        if out_type not in ('raw', 'cls_token', 'featmap', 'avg_featmap'):
            raise ValueError(f'BEiTv2ViT: unknown out_type {out_type!r}; use '
                             'raw, cls_token, featmap or avg_featmap')
        if init_style not in ('pretrain', 'finetune'):
            raise ValueError(f'BEiTv2ViT: unknown init_style {init_style!r};'
                             ' use pretrain or finetune')
        if use_shared_rel_pos_bias and use_rel_pos_bias:
            raise ValueError('BEiTv2ViT: use_shared_rel_pos_bias and '
                             'use_rel_pos_bias are exclusive')
        self.embed_dims = arch['embed_dims']
        self.num_layers = arch['num_layers']
        self.patch_size = patch_size
        self.out_type = out_type
        self.final_norm = final_norm
        self.init_style = init_style
        self.frozen = frozen
        self.patch_resolution = (img_size // patch_size, ) * 2
        num_patches = self.patch_resolution[0] * self.patch_resolution[1]

        self.patch_embed = PatchEmbed(in_channels, self.embed_dims,
                                      patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        self.mask_token = nn.Parameter(torch.zeros(
            1, 1, self.embed_dims)) if with_mask_token else None
        self.pos_embed = nn.Parameter(
            torch.zeros(1, num_patches + 1,
                        self.embed_dims)) if use_abs_pos_emb else None
        self.rel_pos_bias = RelativePositionBias(
            self.patch_resolution,
            arch['num_heads']) if use_shared_rel_pos_bias else None

        dpr = torch.linspace(0, drop_path_rate, self.num_layers).tolist()
        self.layers = nn.ModuleList([
            BEiTBlock(
                self.embed_dims,
                arch['num_heads'],
                arch['feedforward_channels'],
                layer_scale_init_value=layer_scale_init_value,
                drop_path_rate=dpr[i],
                window_size=self.patch_resolution
                if use_rel_pos_bias else None,
                use_sdpa=use_sdpa,
                with_cp=with_cp) for i in range(self.num_layers)
        ])
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        self.out_indices = [i % self.num_layers for i in out_indices]
        if final_norm:
            self.ln1 = nn.LayerNorm(self.embed_dims, eps=1e-6)
        if out_type == 'avg_featmap':
            # The fresh ``fc_norm`` of fine-tuning (docs/official.md §3.1).
            self.ln2 = nn.LayerNorm(self.embed_dims, eps=1e-6)
        self._register_load_state_dict_pre_hook(
            prepare_state_dict, with_module=True)
        if frozen:
            self.requires_grad_(False)

    def init_weights(self) -> None:
        """The official init (docs/official.md §2.1, §6.1, §6.2), unless a
        checkpoint is given through ``init_cfg``."""
        super().init_weights()
        if loads_pretrained(self.init_cfg):
            return
        # pretraining: trunc_normal_(std=.02, a=-.02, b=.02); fine-tune/
        # VQ-KD: timm's absolute bounds (+-2), i.e. practically untruncated.
        bound = 0.02 if self.init_style == 'pretrain' else 2.0

        def trunc(t: torch.Tensor) -> None:
            nn.init.trunc_normal_(t, std=.02, a=-bound, b=bound)

        for p in (self.cls_token, self.mask_token, self.pos_embed):
            if p is not None:
                trunc(p)
        for m in self.modules():
            if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and
                                            self.init_style == 'pretrain'):
                trunc(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for i, layer in enumerate(self.layers):
            layer.rescale_init_weight_(i + 1)

    def train(self, mode: bool = True) -> 'BEiTv2ViT':
        # A frozen backbone stays in eval mode (linear probing).
        return super().train(mode and not self.frozen)

    def embed(self,
              x: torch.Tensor,
              mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor,
                                                            Tuple]:
        """Patchify, replace masked patches, prepend [CLS], add positions.

        Args:
            x (torch.Tensor): (B, 3, H*p, W*p) images.
            mask (torch.Tensor, optional): (B, H*W) bool, True = masked.

        Returns:
            tuple: (B, 1+H*W, C) tokens and the patch grid (H, W).
        """
        x, hw = self.patch_embed(x)  # (B, N, C)
        if mask is not None:
            # x * (1 - w) + mask_token * w (docs/official.md §2.1)
            w = mask.unsqueeze(-1).type_as(x)
            x = x * (1 - w) + self.mask_token.to(x.dtype) * w
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        if self.pos_embed is not None:
            x = x + self.pos_embed
        return x, hw

    def shared_rel_pos_bias(self) -> Optional[torch.Tensor]:
        """The shared bias as (heads, N+1, N+1), or None without one."""
        return self.rel_pos_bias() if self.rel_pos_bias is not None else None

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                rel_pos_bias: Optional[torch.Tensor] = None,
                query_index: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor]:
        """Args:
            x (torch.Tensor): (B, 3, H*p, W*p) images.
            mask (torch.Tensor, optional): (B, H*W) bool mask.
            rel_pos_bias (torch.Tensor, optional): the shared bias if the
                caller already computed it (the BEiT v2 algorithm hands the
                same tensor to the aggregation neck). Defaults to None
                (computed here).
            query_index (torch.Tensor, optional): (B, Q) long token indices
                ([CLS] first, see :mod:`mmbeitv2.models.utils.query_index`):
                the last block computes only these tokens, so its output is
                (B, Q, C). ``out_type='raw'`` only. Defaults to None (all).

        Returns:
            tuple[torch.Tensor]: one output per ``out_indices`` entry.
        """
        if query_index is not None and self.out_type != 'raw':
            raise ValueError('BEiTv2ViT: query_index needs '
                             f"out_type='raw', not {self.out_type!r}")
        x, hw = self.embed(x, mask)
        if rel_pos_bias is None:
            rel_pos_bias = self.shared_rel_pos_bias()
        outs = []
        for i, layer in enumerate(self.layers):
            last = i == self.num_layers - 1
            x = layer(x, rel_pos_bias, query_index if last else None)
            if last and self.final_norm:
                x = self.ln1(x)
            if i in self.out_indices:
                outs.append(self._format_output(x, hw))
        return tuple(outs)

    def _format_output(self, x: torch.Tensor, hw: Tuple) -> torch.Tensor:
        if self.out_type == 'raw':
            return x
        if self.out_type == 'cls_token':
            return x[:, 0]
        patch_token = x[:, self.num_extra_tokens:]  # (B, H*W, C)
        if self.out_type == 'featmap':
            # (B, H*W, C) -> (B, C, H, W)
            return patch_token.transpose(1, 2).reshape(
                x.shape[0], -1, *hw).contiguous()
        return self.ln2(patch_token.mean(dim=1))

    def get_layer_depth(self, param_name: str,
                        prefix: str = '') -> Tuple[int, int]:
        """Layer id for layer-wise lr decay (docs/official.md §3.3, §6.13):
        embeddings 0, ``layers.j`` j+1, everything else (shared table, norms,
        head) num_layers+1. Used by mmpretrain's
        ``LearningRateDecayOptimWrapperConstructor``."""
        num_layers = self.num_layers + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        if name in ('cls_token', 'mask_token', 'pos_embed') or \
                name.startswith('patch_embed'):
            return 0, num_layers
        if name.startswith('layers.'):
            return int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers
