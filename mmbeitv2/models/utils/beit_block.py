# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_finetune.py  # noqa: E501
from typing import Optional, Sequence

import torch
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from torch import nn

from .beit_attention import BEiTAttention, gather_tokens


class Mlp(nn.Module):
    """Linear -> GELU -> Linear, laid out as mmcv's ``FFN`` so parameter names
    (``layers.0.0``, ``layers.1``) match mmpretrain's BEiT layers."""

    def __init__(self, embed_dims: int, feedforward_channels: int,
                 drop_rate: float = 0.) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(
                nn.Linear(embed_dims, feedforward_channels), nn.GELU(),
                nn.Dropout(drop_rate)),
            nn.Linear(feedforward_channels, embed_dims), nn.Dropout(drop_rate))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class BEiTBlock(nn.Module):
    """A pre-norm BEiT transformer block with optional layer scale.

    ``x = x + drop_path(gamma_1 * attn(ln1(x)))``; ``x = x + drop_path(gamma_2
    * ffn(ln2(x)))`` (docs/official.md §2.1). Parameter names follow
    mmpretrain's ``BEiTTransformerEncoderLayer``.

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
        qkv_bias (bool): q/v biases. Defaults to True.
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
                 qkv_bias: bool = True,
                 attn_drop_rate: float = 0.,
                 drop_rate: float = 0.,
                 use_sdpa: bool = True,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.with_cp = with_cp
        # LayerNorm eps 1e-6 in every BEiT/VQ-KD module (docs/official.md
        # §6.12).
        self.ln1 = nn.LayerNorm(embed_dims, eps=1e-6)
        self.attn = BEiTAttention(
            embed_dims,
            num_heads,
            qkv_bias=qkv_bias,
            window_size=window_size,
            attn_drop_rate=attn_drop_rate,
            proj_drop_rate=drop_rate,
            use_sdpa=use_sdpa)
        self.ln2 = nn.LayerNorm(embed_dims, eps=1e-6)
        self.ffn = Mlp(embed_dims, feedforward_channels, drop_rate)
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
            x = gather_tokens(x, query_index)  # (B, M, C)
        x = x + self.drop_path(y if self.gamma_1 is None else self.gamma_1 * y)
        y = self.ffn(self.ln2(x))
        x = x + self.drop_path(y if self.gamma_2 is None else self.gamma_2 * y)
        return x

    def forward(self,
                x: torch.Tensor,
                rel_pos_bias: Optional[torch.Tensor] = None,
                query_index: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            x (torch.Tensor): (B, N, C).
            rel_pos_bias (torch.Tensor, optional): (heads, N, N) shared bias.
            query_index (torch.Tensor, optional): (B, M) long; return only
                these tokens' outputs, computed at their cost (attention
                still reads all N tokens). For a last block whose consumers
                read M < N tokens. Defaults to None (all tokens).

        Returns:
            torch.Tensor: (B, N, C), or (B, M, C) with ``query_index``.
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
