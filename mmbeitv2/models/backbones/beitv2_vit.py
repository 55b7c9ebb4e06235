# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_pretrain.py  # noqa: E501
# and https://github.com/microsoft/unilm/blob/master/beit2/modeling_finetune.py  # noqa: E501
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.models.utils import resize_pos_embed, to_2tuple
from torch import nn

from mmbeitv2.registry import MODELS
from ..utils.beit_block import BEiTBlock, _norm
from ..utils.relative_position_bias import RelativePositionBias
from mmbeitv2.checkpoint import loads_pretrained
from mmbeitv2.checkpoint.vit_state_dict import prepare_state_dict


class PatchEmbed(nn.Module):
    """Conv patch embedding; ``projection`` is mmpretrain's name.

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Token width C.
        patch_size (int | tuple): Kernel size and stride.
        **conv_cfg: ``kernel_size``, ``stride``, ``padding``, ``dilation``
            or ``bias`` of the ``nn.Conv2d`` (mmpretrain's ``patch_cfg``).
    """
    CONV_KEYS = ('kernel_size', 'stride', 'padding', 'dilation', 'bias')

    def __init__(self, in_channels: int, embed_dims: int,
                 patch_size: Union[int, Sequence[int]],
                 **conv_cfg) -> None:
        super().__init__()
        unknown = set(conv_cfg) - set(self.CONV_KEYS)
        if unknown:
            raise ValueError(f'BEiTv2ViT: patch_cfg keys {sorted(unknown)} '
                             f'are not supported; use {self.CONV_KEYS}')
        cfg = dict(kernel_size=patch_size, stride=patch_size, **conv_cfg)
        self.projection = nn.Conv2d(in_channels, embed_dims, **cfg)

    def out_size(self, img_size: Tuple[int, int]) -> Tuple[int, int]:
        """The patch grid (H, W) of an ``img_size`` input."""
        conv = self.projection
        return tuple(
            (s + 2 * p - d * (k - 1) - 1) // st + 1
            for s, p, d, k, st in zip(img_size, conv.padding, conv.dilation,
                                      conv.kernel_size, conv.stride))

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
    encoder (absolute position embedding, no layer scale).

    A drop-in for mmpretrain 1.2's ``BEiTViT``: the same parameter names
    (``layers.i``, ``patch_embed.projection``, ``ln1`` final norm, ``ln2``
    pooled norm), the same arguments and defaults (``out_type=
    'avg_featmap'``, per-block tables, ``frozen_stages``,
    ``with_cls_token``, ...), so weights, configs and scripts move between
    mmbeitv2, mmpretrain and mmsegmentation. It differs from it in the fused
    attention path, the official initialisations, a scipy-free
    relative-position resize when loading, stochastic depth applied once
    per branch (mmpretrain's FFN applies it twice) and the extra arguments
    below (``with_mask_token`` ... ``frozen``).

    Args:
        arch (str | dict): A key of ``arch_zoo`` (mmpretrain's, plus
            ``'tiny'``) or a dict with ``embed_dims``, ``num_layers``,
            ``num_heads``, ``feedforward_channels``. Defaults to ``'base'``.
        img_size (int | tuple): Input size. Defaults to 224.
        patch_size (int | tuple): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int] | int): Blocks whose outputs are returned.
            Defaults to -1.
        drop_rate (float): Dropout after the position embedding and in the
            blocks. Defaults to 0.
        drop_path_rate (float): Max stochastic depth. Defaults to 0.
        bias (bool | str): ``'qv_bias'`` (q and v biases, official), True
            (q, k and v) or False. Defaults to ``'qv_bias'``.
        norm_cfg (dict): Norm layers. Defaults to ``dict(type='LN',
            eps=1e-6)``.
        final_norm (bool): Apply ``ln1`` after the last block.
            Defaults to False.
        out_type (str): ``'raw'`` (B, N+1, C), ``'cls_token'`` (B, C),
            ``'featmap'`` (B, C, H, W) or ``'avg_featmap'`` (``ln2`` of the
            mean patch token, the official fine-tune pooling). Defaults to
            ``'avg_featmap'``.
        with_cls_token (bool): Prepend [CLS]. Defaults to True.
        frozen_stages (int): Freeze the embeddings and the first
            ``frozen_stages`` blocks (and ``ln1``/``ln2`` when all are);
            -1 freezes nothing. Defaults to -1.
        use_abs_pos_emb (bool): Learned absolute positions. Defaults to False.
        use_rel_pos_bias (bool): One table per block (fine-tuning).
            Defaults to True.
        use_shared_rel_pos_bias (bool): One table for all blocks
            (pretraining). Defaults to False.
        interpolate_mode (str): Resize mode of ``pos_embed`` for another
            input size. Defaults to ``'bicubic'``.
        layer_scale_init_value (float): 0.1 base / 1e-5 large pretraining,
            0 for none. Defaults to 0.1.
        patch_cfg (dict): ``nn.Conv2d`` options of the patch embedding
            (``kernel_size``, ``stride``, ``padding``, ``dilation``,
            ``bias``). Defaults to ``dict()``.
        layer_cfgs (Sequence[dict] | dict): ``BEiTBlock`` options, one dict
            for every block or one per block. Defaults to ``dict()``.
        with_mask_token (bool): Learn a mask token (pretraining).
            Defaults to False.
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
        # mmpretrain 1.2 ``BEiTViT.arch_zoo`` (its 'small' is 768 wide)
        **dict.fromkeys(['s', 'small'], dict(embed_dims=768, num_layers=8,
                                             num_heads=8,
                                             feedforward_channels=768 * 3)),
        **dict.fromkeys(['b', 'base'], dict(embed_dims=768, num_layers=12,
                                            num_heads=12,
                                            feedforward_channels=3072)),
        **dict.fromkeys(['l', 'large'], dict(embed_dims=1024, num_layers=24,
                                             num_heads=16,
                                             feedforward_channels=4096)),
        **dict.fromkeys(['eva-g', 'eva-giant'],
                        dict(embed_dims=1408, num_layers=40, num_heads=16,
                             feedforward_channels=6144)),
        **dict.fromkeys(['deit-t', 'deit-tiny', 't', 'tiny'],
                        dict(embed_dims=192, num_layers=12, num_heads=3,
                             feedforward_channels=768)),
        **dict.fromkeys(['deit-s', 'deit-small'],
                        dict(embed_dims=384, num_layers=12, num_heads=6,
                             feedforward_channels=1536)),
        **dict.fromkeys(['deit-b', 'deit-base'],
                        dict(embed_dims=768, num_layers=12, num_heads=12,
                             feedforward_channels=3072)),
    }
    OUT_TYPES = {'raw', 'cls_token', 'featmap', 'avg_featmap'}
    num_extra_tokens = 1  # [CLS]

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 3,
                 out_indices: Union[Sequence[int], int] = -1,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 bias: Union[bool, str] = 'qv_bias',
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 final_norm: bool = False,
                 out_type: str = 'avg_featmap',
                 with_cls_token: bool = True,
                 frozen_stages: int = -1,
                 use_abs_pos_emb: bool = False,
                 use_rel_pos_bias: bool = True,
                 use_shared_rel_pos_bias: bool = False,
                 interpolate_mode: str = 'bicubic',
                 layer_scale_init_value: float = 0.1,
                 patch_cfg: dict = dict(),
                 layer_cfgs: Union[Sequence[dict], dict] = dict(),
                 with_mask_token: bool = False,
                 init_style: str = 'pretrain',
                 use_sdpa: bool = True,
                 with_cp: bool = False,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            arch = arch.lower()
            assert arch in set(self.arch_zoo), \
                f'Arch {arch} is not in default archs {set(self.arch_zoo)}'
            arch = self.arch_zoo[arch]
        else:
            essential_keys = {
                'embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'
            }
            assert isinstance(arch, dict) and essential_keys <= set(arch), \
                f'Custom arch needs a dict with keys {essential_keys}'
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'BEiTv2ViT: unknown out_type {out_type!r}; use '
                             'raw, cls_token, featmap or avg_featmap')
        if not with_cls_token and out_type == 'cls_token':
            raise ValueError('BEiTv2ViT: with_cls_token must be True when '
                             "out_type='cls_token'")
        if init_style not in ('pretrain', 'finetune'):
            raise ValueError(f'BEiTv2ViT: unknown init_style {init_style!r};'
                             ' use pretrain or finetune')
        if use_shared_rel_pos_bias and use_rel_pos_bias:
            raise ValueError('BEiTv2ViT: use_shared_rel_pos_bias and '
                             'use_rel_pos_bias are exclusive')
        self.arch_settings = arch
        self.embed_dims = arch['embed_dims']
        self.num_layers = arch['num_layers']
        self.img_size = to_2tuple(img_size)
        self.patch_size = patch_size
        self.out_type = out_type
        self.final_norm = final_norm
        self.init_style = init_style
        self.frozen = frozen
        self.frozen_stages = frozen_stages
        self.with_cls_token = with_cls_token
        self.num_extra_tokens = int(with_cls_token)
        self.interpolate_mode = interpolate_mode
        self.use_rel_pos_bias = use_rel_pos_bias

        self.patch_embed = PatchEmbed(in_channels, self.embed_dims,
                                      patch_size, **patch_cfg)
        self.patch_resolution = self.patch_embed.out_size(self.img_size)
        num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        self.cls_token = nn.Parameter(torch.zeros(
            1, 1, self.embed_dims)) if with_cls_token else None
        self.mask_token = nn.Parameter(torch.zeros(
            1, 1, self.embed_dims)) if with_mask_token else None
        self.pos_embed = nn.Parameter(
            torch.zeros(1, num_patches + self.num_extra_tokens,
                        self.embed_dims)) if use_abs_pos_emb else None
        self.drop_after_pos = nn.Dropout(p=drop_rate)
        self.rel_pos_bias = RelativePositionBias(
            self.patch_resolution,
            arch['num_heads']) if use_shared_rel_pos_bias else None

        if isinstance(out_indices, int):
            out_indices = [out_indices]
        assert isinstance(out_indices, Sequence), \
            f'"out_indices" must by a sequence or int, ' \
            f'get {type(out_indices)} instead.'
        out_indices = list(out_indices)
        for i, index in enumerate(out_indices):
            if index < 0:
                out_indices[i] = self.num_layers + index
            assert 0 <= out_indices[i] <= self.num_layers, \
                f'Invalid out_indices {index}'
        self.out_indices = out_indices

        dpr = torch.linspace(0, drop_path_rate, self.num_layers).tolist()
        if isinstance(layer_cfgs, dict):
            layer_cfgs = [layer_cfgs] * self.num_layers
        qkv_bias = {'qv_bias': True, True: 'qkv_bias', False: False}[bias]
        self.layers = nn.ModuleList([
            BEiTBlock(**{
                **dict(
                    embed_dims=self.embed_dims,
                    num_heads=arch['num_heads'],
                    feedforward_channels=arch['feedforward_channels'],
                    layer_scale_init_value=layer_scale_init_value,
                    drop_path_rate=dpr[i],
                    window_size=self.patch_resolution
                    if use_rel_pos_bias else None,
                    qkv_bias=qkv_bias,
                    drop_rate=drop_rate,
                    norm_cfg=norm_cfg,
                    use_sdpa=use_sdpa,
                    with_cp=with_cp),
                **layer_cfgs[i]
            }) for i in range(self.num_layers)
        ])
        if final_norm:
            self.ln1 = _norm(norm_cfg, self.embed_dims)
        if out_type == 'avg_featmap':
            # The fresh ``fc_norm`` of fine-tuning (docs/official.md §3.1).
            self.ln2 = _norm(norm_cfg, self.embed_dims)
        self._register_load_state_dict_pre_hook(
            prepare_state_dict, with_module=True)
        if frozen:
            self.requires_grad_(False)
        if frozen_stages > 0:
            self._freeze_stages()

    @property
    def norm1(self) -> nn.Module:
        return self.ln1

    @property
    def norm2(self) -> nn.Module:
        return self.ln2

    def _frozen_modules(self) -> list:
        """Modules ``frozen_stages`` freezes, as mmpretrain's
        ``BEiTViT._freeze_stages``."""
        mods = [self.patch_embed, self.drop_after_pos]
        mods += list(self.layers[:self.frozen_stages])
        if self.frozen_stages >= self.num_layers:
            mods += [getattr(self, n) for n in ('ln1', 'ln2')
                     if hasattr(self, n)]
        return mods

    def _freeze_stages(self) -> None:
        for p in (self.pos_embed, self.cls_token):
            if p is not None:
                p.requires_grad = False
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

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
        # A frozen backbone stays in eval mode (linear probing), and so do
        # the ``frozen_stages`` modules.
        super().train(mode and not self.frozen)
        if mode and self.frozen_stages > 0:
            for m in self._frozen_modules():
                m.eval()
        return self

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
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x],
                          dim=1)
        if self.pos_embed is not None:
            pos_embed = self.pos_embed
            if tuple(hw) != tuple(self.patch_resolution):
                # another input size: resize as mmpretrain's BEiTViT does
                pos_embed = resize_pos_embed(
                    pos_embed, self.patch_resolution, hw,
                    mode=self.interpolate_mode,
                    num_extra_tokens=self.num_extra_tokens)
            x = x + pos_embed
        return self.drop_after_pos(x), hw

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
