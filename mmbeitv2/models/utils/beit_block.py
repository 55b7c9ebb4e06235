# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_finetune.py  # noqa: E501
from typing import Optional, Sequence, Union

import torch
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from torch import nn

from .beit_attention import BEiTAttention, gather_tokens


class Mlp(nn.Module):
    """Linear -> GELU -> Linear -> stochastic depth, laid out as mmcv's
    ``FFN(add_identity=False)`` so parameter names (``layers.0.0``,
    ``layers.1``) and attributes (``feedforward_channels``,
    ``dropout_layer``) match mmpretrain's BEiT layers.

    Args:
        embed_dims (int): Token width C.
        feedforward_channels (int): Hidden width.
        drop_rate (float): Dropout after each linear. Defaults to 0.
        drop_path_rate (float): Stochastic depth of the FFN branch (the
            block applies it here, before its ``gamma_2``; per-sample
            scaling commutes with it). Defaults to 0.
    """
    add_identity = False  # the block adds the residual

    def __init__(self, embed_dims: int, feedforward_channels: int,
                 drop_rate: float = 0., drop_path_rate: float = 0.) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.layers = nn.Sequential(
            nn.Sequential(
                nn.Linear(embed_dims, feedforward_channels), nn.GELU(),
                nn.Dropout(drop_rate)),
            nn.Linear(feedforward_channels, embed_dims), nn.Dropout(drop_rate))
        self.dropout_layer = DropPath(drop_path_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout_layer(self.layers(x))


def _norm(norm_cfg: Optional[dict], embed_dims: int) -> nn.Module:
    """LayerNorm eps 1e-6 (docs/official.md §6.12), or mmpretrain's
    ``build_norm_layer`` for another ``norm_cfg``."""
    if norm_cfg is None:
        return nn.LayerNorm(embed_dims, eps=1e-6)
    from mmpretrain.models.utils import build_norm_layer
    return build_norm_layer(norm_cfg, embed_dims)


class BEiTBlock(nn.Module):
    """A pre-norm BEiT transformer block with optional layer scale.

    ``x = x + drop_path(gamma_1 * attn(ln1(x)))``, then
    ``x = x + drop_path(gamma_2 * ffn(ln2(x)))`` (docs/official.md §2.1).
    Parameter names follow mmpretrain's ``BEiTTransformerEncoderLayer``.

    Shapes: B images, L tokens each ([CLS] + N patches), Q query tokens
    picked by ``query_index``, C channels, h heads (see ``BEiTAttention``).

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Attention heads.
        feedforward_channels (int): Hidden width of the MLP.
        layer_scale_init_value (float): Initial value of ``gamma_1/2``;
            0 disables layer scale (the VQ-KD encoder/decoder).
            Defaults to 0.1.
        drop_path_rate (float): Stochastic depth. Defaults to 0.
        window_size (Sequence[int], optional): Give it for a per-block
            relative position table. Defaults to None.
        qkv_bias (bool | str): q/v biases; see ``BEiTAttention``.
            Defaults to True.
        attn_drop_rate (float): Dropout on attention weights. Defaults to 0.
        drop_rate (float): Dropout after the projections. Defaults to 0.
        norm_cfg (dict, optional): Norm layers; None is LayerNorm with eps
            1e-6. Defaults to None.
        use_sdpa (bool): Fused attention. Defaults to True.
        with_cp (bool): Gradient checkpointing of this block (saves memory
            for large models at the cost of a second forward).
            Defaults to False.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: int,
                 layer_scale_init_value: float = 0.1,
                 drop_path_rate: float = 0.,
                 window_size: Optional[Sequence[int]] = None,
                 qkv_bias: Union[bool, str] = True,
                 attn_drop_rate: float = 0.,
                 drop_rate: float = 0.,
                 norm_cfg: Optional[dict] = None,
                 use_sdpa: bool = True,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.with_cp = with_cp
        # LayerNorm eps 1e-6 in every BEiT/VQ-KD module (docs/official.md
        # §6.12).
        self.ln1 = _norm(norm_cfg, embed_dims)
        self.attn = BEiTAttention(
            embed_dims,
            num_heads,
            qkv_bias=qkv_bias,
            window_size=window_size,
            attn_drop_rate=attn_drop_rate,
            proj_drop_rate=drop_rate,
            use_sdpa=use_sdpa)
        self.ln2 = _norm(norm_cfg, embed_dims)
        self.ffn = Mlp(embed_dims, feedforward_channels, drop_rate,
                       drop_path_rate)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 \
            else nn.Identity()
        if layer_scale_init_value > 0:
            self.gamma_1 = nn.Parameter(
                layer_scale_init_value * torch.ones(embed_dims))
            self.gamma_2 = nn.Parameter(
                layer_scale_init_value * torch.ones(embed_dims))
        else:
            self.gamma_1, self.gamma_2 = None, None

    def _forward(self, x: torch.Tensor, rel_pos_bias: Optional[torch.Tensor],
                 query_index: Optional[torch.Tensor]) -> torch.Tensor:
        y = self.attn(self.ln1(x), rel_pos_bias, query_index)
        if query_index is not None:
            x = gather_tokens(x, query_index)  # (B, Q, C)
        x = x + self.drop_path(y if self.gamma_1 is None else self.gamma_1 * y)
        y = self.ffn(self.ln2(x))  # stochastic depth inside ``ffn``
        x = x + (y if self.gamma_2 is None else self.gamma_2 * y)
        return x

    def forward(self,
                x: torch.Tensor,
                rel_pos_bias: Optional[torch.Tensor] = None,
                query_index: Optional[torch.Tensor] = None) -> torch.Tensor:
        """One block, on every token or on the ``query_index`` tokens.

        Args:
            x (torch.Tensor): (B, L, C).
            rel_pos_bias (torch.Tensor, optional): (h, L, L) shared bias.
            query_index (torch.Tensor, optional): (B, Q) long; return only
                these tokens' outputs, computed at their cost (attention
                still reads all L tokens). For a last block whose consumers
                read Q < L tokens. Defaults to None (all tokens).

        Returns:
            torch.Tensor: (B, L, C), or (B, Q, C) with ``query_index``.
        """
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(
                self._forward, x, rel_pos_bias, query_index,
                use_reentrant=False)
        return self._forward(x, rel_pos_bias, query_index)

    def rescale_init_weight_(self, layer_id: int) -> None:
        """Divide ``attn.proj.weight`` and ``ffn``'s second linear by
        sqrt(2 * layer_id), 1-based layer id (docs/official.md §6.2)."""
        scale = (2.0 * layer_id)**0.5
        self.attn.proj.weight.data.div_(scale)
        self.ffn.layers[1].weight.data.div_(scale)
