# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_finetune.py  # noqa: E501
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from .relative_position_bias import (gather_relative_bias,
                                     num_relative_distances,
                                     relative_position_index)


def gather_tokens(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Pick tokens per sample: (B, L, C), (B, Q) long -> (B, Q, C)."""
    return x.gather(1, index[..., None].expand(-1, -1, x.shape[-1]))


def _fused_kernel_applies(q: torch.Tensor,
                          bias: Optional[torch.Tensor]) -> bool:
    """Whether :func:`F.scaled_dot_product_attention` runs a fused kernel.

    PyTorch's CPU flash kernel takes a float mask but gives it no gradient;
    when the bias is learned (the relative position tables, in training)
    SDPA falls back to its generic math, which adds a NaN-safe softmax
    (``where``/``all``/``isneginf`` over every (B, h, Q, L) score, and
    their backward) to the same matmuls. On a ViT-B/16 batch-8 bf16
    pretraining step (2 cores) the plain math took the forward from 0.93 to
    0.72 s and the backward from 0.88 to 0.78 s. CUDA's memory-efficient
    kernel does give the mask a gradient, so there SDPA is always used.
    """
    return (q.device.type != 'cpu' or bias is None
            or not (bias.requires_grad and torch.is_grad_enabled()))


class BEiTAttention(nn.Module):
    """Multi-head self-attention of BEiT, with q/v-only biases.

    The k bias is a constant zero (docs/official.md §6.3): ``qkv`` has no bias
    tensor and ``q_bias``/``v_bias`` are separate parameters, as in unilm and
    mmpretrain.

    Two numerically equivalent paths: ``use_sdpa=True`` (default) calls
    :func:`torch.nn.functional.scaled_dot_product_attention` with the
    relative position bias as an additive float mask (the fused kernel),
    except on CPU when that bias needs a gradient, where no fused kernel
    exists (:func:`_fused_kernel_applies`); ``use_sdpa=False`` always
    spells out ``softmax(q k^T / sqrt(d) + bias) v`` exactly as unilm does.
    A test checks they agree.

    Shapes: B images, L tokens each ([CLS] + N patches, or N without
    [CLS]), Q query tokens picked by ``query_index`` (Q = 1 + M in MIM:
    [CLS] + the M masked patches), C channels, h heads.

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Number of heads.
        qkv_bias (bool | str): ``True`` or ``'qv_bias'``: learn q and v
            biases (k bias zero, as unilm); ``'qkv_bias'``: one learned bias
            for q, k and v (mmpretrain's ``bias=True``); ``False``: none.
            Defaults to True.
        window_size (Sequence[int], optional): Patch grid; when given, this
            layer owns a per-block relative position table (fine-tuning).
            Defaults to None.
        attn_drop_rate (float): Dropout on attention weights. Defaults to 0.
        proj_drop_rate (float): Dropout after the projection. Defaults to 0.
        use_sdpa (bool): Use the fused attention kernel. Defaults to True.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 qkv_bias: Union[bool, str] = True,
                 window_size: Optional[Sequence[int]] = None,
                 attn_drop_rate: float = 0.,
                 proj_drop_rate: float = 0.,
                 use_sdpa: bool = True) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.scale = self.head_dims**-0.5
        self.use_sdpa = use_sdpa
        self.attn_drop_rate = attn_drop_rate
        if qkv_bias not in (True, False, 'qv_bias', 'qkv_bias'):
            raise ValueError(f'BEiTAttention: unknown qkv_bias {qkv_bias!r};'
                             " use True, False, 'qv_bias' or 'qkv_bias'")
        self.qkv = nn.Linear(
            embed_dims, embed_dims * 3, bias=qkv_bias == 'qkv_bias')
        if qkv_bias in (True, 'qv_bias'):
            self.q_bias = nn.Parameter(torch.zeros(embed_dims))
            self.v_bias = nn.Parameter(torch.zeros(embed_dims))
        else:
            self.q_bias, self.v_bias = None, None
        if window_size is not None:
            # Per-block table (fine-tuning / segmentation layout,
            # docs/official.md §3.1), named as in mmpretrain's BEiTAttention so
            # weights move freely.
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros(num_relative_distances(window_size), num_heads))
            self.register_buffer('relative_position_index',
                                 relative_position_index(window_size))
        else:
            self.relative_position_bias_table = None
            self.relative_position_index = None
        self.attn_drop = nn.Dropout(attn_drop_rate)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop_rate)

    def _own_rel_pos_bias(self) -> Optional[torch.Tensor]:
        """This block's own table as (h, L, L), or None."""
        if self.relative_position_bias_table is None:
            return None
        return gather_relative_bias(  # (h, L, L)
            self.relative_position_bias_table, self.relative_position_index)

    def _qkv(self, x: torch.Tensor, query_index: Optional[torch.Tensor]
             ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q (B, h, Q, C/h) and k, v (B, h, L, C/h); Q = L unless
        ``query_index`` picks the query tokens."""
        B, L, C = x.shape
        qkv_bias = self.qkv.bias
        if self.q_bias is not None:
            qkv_bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias),
                                  self.v_bias))
        if query_index is None:
            qkv = F.linear(x, self.qkv.weight, qkv_bias)
            # (B, L, 3C) -> (3, B, h, L, C/h)
            qkv = qkv.reshape(B, L, 3, self.num_heads,
                              -1).permute(2, 0, 3, 1, 4)
            return qkv.unbind(0)
        # Only the Q query rows of the q projection are needed; k and v
        # still see every token.
        q = F.linear(
            gather_tokens(x, query_index), self.qkv.weight[:C],
            None if qkv_bias is None else qkv_bias[:C])
        # (B, Q, C) -> (B, h, Q, C/h)
        q = q.reshape(B, -1, self.num_heads, self.head_dims).transpose(1, 2)
        kv = F.linear(x, self.qkv.weight[C:],
                      None if qkv_bias is None else qkv_bias[C:])
        # (B, L, 2C) -> (2, B, h, L, C/h)
        kv = kv.reshape(B, L, 2, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        return (q, *kv.unbind(0))

    def forward(self,
                x: torch.Tensor,
                rel_pos_bias: Optional[torch.Tensor] = None,
                query_index: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attend from every token, or from the ``query_index`` tokens only.

        Args:
            x (torch.Tensor): (B, L, C) tokens.
            rel_pos_bias (torch.Tensor, optional): (h, L, L) shared bias
                (or (h, L+1, L+1) for tokens without [CLS]).
            query_index (torch.Tensor, optional): (B, Q) long; compute the
                outputs of these tokens only (keys and values still use all
                L). Same numbers as gathering the full output, at a fraction
                of the cost when later layers read only Q tokens (e.g.
                [CLS] + the masked ones in MIM). Defaults to None (all
                tokens).

        Returns:
            torch.Tensor: (B, L, C), or (B, Q, C) with ``query_index``.
        """
        B, L, C = x.shape
        q, k, v = self._qkv(x, query_index)

        bias = self._own_rel_pos_bias()
        if rel_pos_bias is not None:
            bias = rel_pos_bias if bias is None else bias + rel_pos_bias
        if bias is not None and bias.shape[-1] == L + 1:
            # no [CLS] token (backbone ``with_cls_token=False``): the table
            # rows/columns of the patch tokens only
            bias = bias[:, 1:, 1:]
        if bias is not None:
            bias = bias.unsqueeze(0).to(q.dtype)  # (1, h, L, L)
            if query_index is not None:
                # rows of the queries: (1, h, L, L) -> (B, h, Q, L)
                bias = bias.expand(B, -1, -1, -1).gather(
                    2, query_index[:, None, :, None].expand(
                        -1, self.num_heads, -1, L))

        if self.use_sdpa and _fused_kernel_applies(q, bias):
            x = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias,
                dropout_p=self.attn_drop_rate if self.training else 0.)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)  # (B, h, Q, L)
            if bias is not None:
                attn = attn + bias
            attn = self.attn_drop(attn.softmax(dim=-1))
            x = attn @ v
        # (B, h, Q, C/h) -> (B, Q, C), Q = L without ``query_index``
        x = x.transpose(1, 2).reshape(B, -1, C)
        return self.proj_drop(self.proj(x))
