# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_pretrain.py  # noqa: E501
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmbeitv2.checkpoint import loads_pretrained
from mmbeitv2.registry import MODELS
from ..backbones.beitv2_vit import BEiTv2ViT
from ..utils.beit_attention import gather_tokens
from ..utils.beit_block import BEiTBlock


@MODELS.register_module()
class BEiTv2Neck(BaseModule):
    """Patch aggregation of BEiT v2 (the official ``cls_pt_layers``) plus the
    shared final norm (docs/official.md §2.2).

    The final-layer [CLS] is concatenated with the patch tokens of an early
    layer and sent through ``num_layers`` more BEiT blocks (same layer scale,
    same *shared* relative position bias as the backbone). Both branches
    then go through the same ``norm`` (the official ``norm.*``), and the
    [CLS] is dropped.

    It differs from mmpretrain's ``BEiTV2Neck`` (the name differs only in case)
    in: the init (docs/official.md §2.2, §6.2: the aggregation blocks keep
    PyTorch's default Linear init, non-zero biases included, because the
    official code creates them after its ``apply(_init_weights)``; only
    ``attn.proj.weight`` and the second MLP weight are divided by sqrt(2 *
    (early_layers + i + 1)); mmpretrain uses TruncNormal(0.02) with zero
    biases); it takes a whole backbone ``arch`` (any width, e.g. the tiny test
    archs); and the drop path of block i is entry ``early_layers + i`` of
    ``linspace(0, dp, max(depth, early_layers + num_layers))`` (as mmpretrain
    does). Parameter names (``patch_aggregation.i``, ``norm``) are
    mmpretrain's.

    Shapes: B images, N patches each, Q = 1 + M query tokens ([CLS] + the M
    masked patches), C channels.

    Args:
        arch (str | dict): The backbone arch (``BEiTv2ViT.arch_zoo`` key or
            a dict with ``embed_dims``, ``num_layers``, ``num_heads``,
            ``feedforward_channels``); ``BEiTv2`` fills it in from its
            backbone. Defaults to ``'base'``.
        num_layers (int): Aggregation blocks. Defaults to 2.
        early_layers (int): 1-based index of the backbone block whose patch
            tokens are aggregated (9 base, 21 large). Defaults to 9.
        layer_scale_init_value (float): As the backbone (0.1 base,
            1e-5 large). Defaults to 0.1.
        drop_path_rate (float): The backbone's max stochastic depth.
            Defaults to 0.
        use_sdpa (bool): Fused attention. Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 num_layers: int = 2,
                 early_layers: int = 9,
                 layer_scale_init_value: float = 0.1,
                 drop_path_rate: float = 0.,
                 use_sdpa: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        arch = BEiTv2ViT.arch_zoo[arch] if isinstance(arch, str) else arch
        self.early_layers = early_layers
        embed_dims = arch['embed_dims']
        depth = max(arch['num_layers'], early_layers + num_layers)
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        self.patch_aggregation = nn.ModuleList([
            BEiTBlock(
                embed_dims,
                arch['num_heads'],
                arch['feedforward_channels'],
                layer_scale_init_value=layer_scale_init_value,
                drop_path_rate=dpr[early_layers + i],
                use_sdpa=use_sdpa) for i in range(num_layers)
        ])
        # The shared final norm of both branches (official ``norm``).
        self.norm = nn.LayerNorm(embed_dims, eps=1e-6)

    def init_weights(self) -> None:
        """PyTorch default init (kept from construction) + depth rescale
        with layer id ``early_layers + i + 1`` (docs/official.md §2.2)."""
        first_call = not self.is_init
        super().init_weights()
        if not first_call or loads_pretrained(self.init_cfg):
            return
        for i, layer in enumerate(self.patch_aggregation):
            layer.rescale_init_weight_(self.early_layers + i + 1)

    def forward(
        self,
        inputs: Sequence[torch.Tensor],
        rel_pos_bias: Optional[torch.Tensor] = None,
        query_index: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Aggregate, then norm both branches.

        Args:
            inputs (Sequence[torch.Tensor]): ``(early, final)`` raw backbone
                tokens: ``early`` (B, 1+N, C); ``final`` (B, 1+N, C), or
                (B, Q, C) = the ``query_index`` tokens ([CLS] first).
            rel_pos_bias (torch.Tensor, optional): The backbone's shared
                bias (heads, 1+N, 1+N).
            query_index (torch.Tensor, optional): (B, Q) long token indices,
                [CLS] first (:mod:`mmbeitv2.models.utils.query_index`): the
                last aggregation block computes only these tokens (keys and
                values still see every token). Defaults to None (all).

        Returns:
            tuple: ``norm(final)`` and ``norm(aggregated)`` patch tokens,
            each (B, N, C), or (B, M, C) with ``query_index``; [CLS]
            removed.
        """
        early, final = inputs
        # final-layer [CLS] + early-layer patches, (B, 1+N, C)
        x = torch.cat([final[:, :1], early[:, 1:]], dim=1)
        for i, layer in enumerate(self.patch_aggregation):
            last = i == len(self.patch_aggregation) - 1
            x = layer(x, rel_pos_bias, query_index if last else None)
        if query_index is not None and len(self.patch_aggregation) == 0:
            x = gather_tokens(x, query_index)  # (B, Q, C)
        # [CLS] is token 0 in both layouts: drop it the same way,
        # (B, 1+N, C) -> (B, N, C) or (B, Q, C) -> (B, M, C).
        return self.norm(final)[:, 1:], self.norm(x)[:, 1:]
