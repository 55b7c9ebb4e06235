# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/modeling_vqkd.py  # noqa: E501
from typing import Dict, List, Optional, Tuple, Union

import torch
from einops import rearrange
from mmengine.model import BaseModel
from torch import nn

from mmbeitv2.checkpoint import loads_pretrained
from mmbeitv2.checkpoint.tokenizer_loading import load_tokenizer_checkpoint
from mmbeitv2.registry import MODELS
from .codebook_utils import codebook_stats
from .teachers import build_teacher
from .vqkd_arch import arch_from_config, check_teacher_width

# Encoder/decoder: fine-tune-style ViT, abs pos-embed, no layer scale
# (docs/official.md §1.1).
VIT_DEFAULTS = dict(
    type='BEiTv2ViT',
    use_abs_pos_emb=True,
    use_shared_rel_pos_bias=False,
    use_rel_pos_bias=False,
    layer_scale_init_value=0.,
    init_style='finetune',
    out_type='raw')


def _task_layer(in_dims: int, out_dims: int) -> nn.Sequential:
    """Linear -> Tanh -> Linear (``encode/decode_task_layer``, docs/official.md
    §1.1)."""
    return nn.Sequential(
        nn.Linear(in_dims, in_dims), nn.Tanh(), nn.Linear(in_dims, out_dims))


@MODELS.register_module()
class VQKDTokenizer(BaseModel):
    """The BEiT v2 visual tokenizer, trained by vector-quantized knowledge
    distillation (https://arxiv.org/abs/2208.06366).

    ``loss`` follows the official ``VQKD.forward`` (unilm beit2
    ``modeling_vqkd.py``): ``get_regress_target`` (the frozen teacher's
    features) -> ``encode`` (ViT encoder -> ``encoder_norm`` on the patch
    tokens -> ``encode_task_layer`` in fp32) -> ``quantize``
    (:class:`NormEMAVectorQuantizer`) -> ``decode`` (ViT decoder on the (B, D,
    H, W) code map -> ``decoder_norm`` -> ``decode_task_layer``) ->
    ``calculate_rec_loss`` (1 - cos to the target) + commitment loss
    (docs/official.md §1.1-§1.4).

    Input contract: ``images`` are float RGB in **[0, 1]** at the tokenizer's
    resolution; they are mapped to [-1, 1] with ``x * 2 - 1`` (the official
    ``x * 255 / 127.5 - 1``). The range is asserted on the first batch.

    The teacher is **not** a registered sub-module: it is kept in a plain
    list, so its weights are never in ``state_dict()``, ``parameters()`` or
    the optimizer; ``_apply`` moves it with the model (``.to()``,
    ``.cuda()``). What training updates in it (:class:`CenteredTeacher`'s
    running mean) is saved under the tokenizer's own keys
    (``target_mean``, ``target_mean_initted``). With ``teacher=None`` (a
    frozen target generator) nothing is built for it and only
    ``get_tokens``/``predict`` work; the decoder is still built so that
    tokenizer checkpoints load strictly (docs/official.md §1.7).

    Checkpoint = encoder, ``encoder_norm`` (official ``encoder.fc_norm``),
    ``encode_task_layer``, ``quantize`` (``initted`` = 1), decoder,
    ``decoder_norm``, ``decode_task_layer``. Give
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (optional
    ``prefix``, e.g. ``'target_generator.'``; ``trusted=True`` to read a full
    mmengine checkpoint you made) to load one strictly in ``init_weights``:
    teacher/scaling/loss keys are dropped and reported, ``initted`` = 1 is
    restored, so k-means never re-runs.

    Args:
        encoder (dict): ``BEiTv2ViT`` kwargs overriding ``VIT_DEFAULTS``.
        decoder (dict): Same for the decoder (``img_size`` = the patch grid,
            ``patch_size=1``, ``in_channels`` = code dim).
        quantizer (dict): :class:`NormEMAVectorQuantizer` kwargs.
        decoder_out_dims (int): Teacher feature width (512 CLIP, 768 DINO).
            Defaults to 512.
        teacher (dict, optional): Teacher config; None for tokens only. Two
            options of the small CPU configs (not the paper's setup) may be
            set in it; :func:`build_teacher` turns them into wrappers:
            ``cache=True`` (:class:`CachedTeacher`, the teacher runs once
            per fixed training view) and ``center=True`` with
            ``center_momentum`` (:class:`CenteredTeacher`, a running mean
            is subtracted from the targets). Defaults to None.
        vqkd_config (str, optional): The VQ-KD config a trained tokenizer
            was trained with: its model's encoder, decoder, quantizer and
            decoder_out_dims replace the ones given here (swaps the frozen
            tokenizer of a pretraining config). Defaults to None.
        data_preprocessor (dict, optional): Must give [0, 1] RGB.
            Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 encoder: dict,
                 decoder: dict,
                 quantizer: dict,
                 decoder_out_dims: int = 512,
                 teacher: Optional[dict] = None,
                 vqkd_config: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if vqkd_config is not None:
            encoder, decoder, quantizer, decoder_out_dims = arch_from_config(
                vqkd_config, decoder_out_dims)
        self.encoder = MODELS.build({**VIT_DEFAULTS, **encoder})
        self.decoder = MODELS.build({**VIT_DEFAULTS, **decoder})
        enc_dims, dec_dims = self.encoder.embed_dims, self.decoder.embed_dims
        self.quantize = MODELS.build(
            dict(type='NormEMAVectorQuantizer', **quantizer))
        code_dims = self.quantize.codebook_dim
        # The official fc_norm, applied per patch token (no mean).
        self.encoder_norm = nn.LayerNorm(enc_dims, eps=1e-6)
        self.decoder_norm = nn.LayerNorm(dec_dims, eps=1e-6)
        self.encode_task_layer = _task_layer(enc_dims, code_dims)
        self.decode_task_layer = _task_layer(dec_dims, decoder_out_dims)
        self._teacher: List[nn.Module] = []
        if teacher is not None:
            self._teacher.append(build_teacher(teacher, decoder_out_dims))
            check_teacher_width(self.teacher, decoder_out_dims)
        self._range_checked = False

    @property
    def teacher(self) -> Optional[nn.Module]:
        return self._teacher[0] if self._teacher else None

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self._teacher:
            self._teacher[0]._apply(fn, *args, **kwargs)
        return self

    def train(self, mode: bool = True) -> 'VQKDTokenizer':
        super().train(mode)
        if self._teacher:
            self._teacher[0].train(False)
        return self

    def _teacher_stats(self) -> Dict[str, torch.Tensor]:
        return self.teacher.running_stats() if self._teacher else {}

    # The teacher's running statistics (FrozenTeacher.running_stats) are
    # saved and loaded under the tokenizer's own keys; its weights are not.
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, value in self._teacher_stats().items():
            destination[prefix + name] = value if keep_vars else \
                value.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, *args):
        for name, value in self._teacher_stats().items():
            if prefix + name in state_dict:
                with torch.no_grad():
                    value.copy_(state_dict.pop(prefix + name))
            elif strict:
                missing_keys.append(prefix + name)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, *args)

    def init_weights(self) -> None:
        """Official init (docs/official.md §1.1), or a strict checkpoint
        load."""
        if loads_pretrained(self.init_cfg):
            load_tokenizer_checkpoint(self, self.init_cfg['checkpoint'],
                                      self.init_cfg.get('prefix', ''),
                                      self.init_cfg.get('trusted', False))
            self.is_init = True
            return
        super().init_weights()  # encoder/decoder: BEiTv2ViT.init_weights
        for m in (*self.encode_task_layer, *self.decode_task_layer):
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02, a=-2., b=2.)
                nn.init.zeros_(m.bias)
        self.is_init = True

    def _to_signed(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> [-1, 1]; range asserted once (docs/official.md §1.2)."""
        if not self._range_checked:
            lo, hi = images.min().item(), images.max().item()
            assert lo >= -1e-3 and hi <= 1 + 1e-3, (
                f'VQKDTokenizer expects images in [0, 1], got [{lo}, {hi}]; '
                'use a data preprocessor with mean=0, std=255')
            self._range_checked = True
        return images * 2 - 1

    def encode_tokens(self,
                      images: torch.Tensor,
                      query_index: Optional[torch.Tensor] = None
                      ) -> torch.Tensor:
        """Pre-quantizer vectors, one per patch token.

        Args:
            images (torch.Tensor): (B, 3, H*p, W*p) in [0, 1].
            query_index (torch.Tensor, optional): (B, Q) long token indices,
                [CLS] first (:mod:`mmbeitv2.models.utils.query_index`):
                encode only these tokens; the last encoder block computes
                only them (keys and values still see every patch).
                Defaults to None (all).

        Returns:
            torch.Tensor: (B, N, D), or (B, Q-1, D) with ``query_index``.
        """
        x = self.encoder(
            self._to_signed(images), query_index=query_index)[0]
        x = self.encoder_norm(x[:, 1:])  # drop [CLS]: (B, N or Q-1, C)
        # encode_task_layer runs in fp32 (docs/official.md §1.1).
        with torch.autocast(device_type=x.device.type, enabled=False):
            w = self.encode_task_layer[-1].weight
            return self.encode_task_layer(x.type_as(w))  # (B, N or Q-1, D)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Pre-quantizer code map.

        Args:
            images (torch.Tensor): (B, 3, H*p, W*p) in [0, 1].

        Returns:
            torch.Tensor: (B, D, H, W), the quantizer's layout.
        """
        h, w = self.encoder.patch_resolution
        return rearrange(
            self.encode_tokens(images), 'b (h w) d -> b d h w', h=h, w=w)

    def decode(self, z_q: torch.Tensor) -> torch.Tensor:
        """(B, D, H, W) codes -> (B, N, decoder_out_dims)."""
        x = self.decoder(z_q)[0]  # (B, 1+N, C)
        return self.decode_task_layer(self.decoder_norm(x[:, 1:]))

    def get_regress_target(self,
                           images: torch.Tensor,
                           data_samples: Optional[list] = None
                           ) -> torch.Tensor:
        """The frozen teacher's features on the tokenizer's patch grid
        (official ``get_regress_target``).

        Args:
            images (torch.Tensor): (B, 3, H*p, W*p) in [0, 1].
            data_samples (list, optional): Passed to the teacher (the view
                ids a :class:`CachedTeacher` reads). Defaults to None.

        Returns:
            torch.Tensor: (B, N, C) fp32.
        """
        if self.teacher is None:
            raise RuntimeError('VQKDTokenizer built without a teacher '
                               '(tokens-only mode) cannot compute a loss')
        return self.teacher(
            images, self.encoder.patch_resolution, data_samples,
            update=self.training).float()

    @staticmethod
    def calculate_rec_loss(rec: torch.Tensor,
                           target: torch.Tensor) -> torch.Tensor:
        """mean(1 - cos(rec, target)) over tokens (official
        ``calculate_rec_loss``, docs/official.md §1.4)."""
        target = target / target.norm(dim=-1, keepdim=True)
        rec = rec / rec.norm(dim=-1, keepdim=True)
        return (1 - (target * rec).sum(-1)).mean()

    @property
    def num_patches(self) -> int:
        """H*W tokens per image (the encoder's patch grid)."""
        h, w = self.encoder.patch_resolution
        return h * w

    @torch.no_grad()
    def get_tokens(self,
                   images: torch.Tensor,
                   query_index: Optional[torch.Tensor] = None
                   ) -> torch.Tensor:
        """Code ids, never updating anything (no k-means, no EMA).

        Args:
            images (torch.Tensor): (B, 3, H*p, W*p) in [0, 1].
            query_index (torch.Tensor, optional): (B, Q) long token indices,
                [CLS] first: the codes of those patches only, equal to
                ``get_tokens(images).gather(1, query_index[:, 1:] - 1)`` at
                a lower cost (see :meth:`encode_tokens`). Defaults to None.

        Returns:
            torch.Tensor: (B, H*W) long ids, raster order, or (B, Q-1).
        """
        return self.quantize.code_ids(self.encode_tokens(images, query_index))

    def loss(self,
             images: torch.Tensor,
             data_samples: Optional[list] = None) -> Dict[str, torch.Tensor]:
        """VQ-KD losses, as the official ``VQKD.forward``: ``loss = loss_rec
        + loss_commit`` (docs/official.md §1.4).

        Args:
            images (torch.Tensor): (B, 3, H*p, W*p) in [0, 1].
            data_samples (list, optional): Passed to the teacher.
                Defaults to None.

        Returns:
            dict[str, torch.Tensor]: ``loss_rec``, ``loss_commit`` and the
            logged batch codebook statistics.
        """
        target = self.get_regress_target(images, data_samples)  # (B, N, C)
        z_q, loss_commit, idx = self.quantize(self.encode(images))
        rec = self.decode(z_q)  # (B, N, C)
        return dict(
            loss_rec=self.calculate_rec_loss(rec.float(), target),
            loss_commit=loss_commit,
            **self.codebook_log(idx))

    def codebook_log(self, idx: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The batch's code usage and perplexity, logged only: no "loss" in
        the names (mmengine sums those).

        Args:
            idx (torch.Tensor): (B*N, ) code ids.
        """
        stats = codebook_stats(
            torch.bincount(idx, minlength=self.quantize.num_tokens))
        return dict(
            batch_code_usage=torch.tensor(stats['usage']),
            batch_perplexity=torch.tensor(stats['perplexity']))

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> List[dict]:
        """Per image: ``tokens`` (H*W, ) and, with a teacher,
        ``rec_cos_distance`` (1 - cos averaged over its tokens)."""
        z_q, _, idx = self.quantize(self.encode(images), update=False)
        tokens = idx.view(images.shape[0], -1)
        outs = [dict(tokens=t.cpu()) for t in tokens]
        if self.teacher is not None:
            rec = self.decode(z_q).float()
            target = self.get_regress_target(images)
            cos = torch.cosine_similarity(rec, target, dim=-1)  # (B, N)
            for out, d in zip(outs, (1 - cos).mean(dim=1)):
                out['rec_cos_distance'] = float(d)
        return outs

    def forward(self,
                inputs: Union[torch.Tensor, List[torch.Tensor]],
                data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        """mmengine entry: ``'loss'`` -> loss dict, ``'predict'`` -> list of
        dicts, ``'tensor'`` -> (B, H*W) tokens."""
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs)
        if mode == 'tensor':
            return self.get_tokens(inputs)
        raise RuntimeError(f'VQKDTokenizer: invalid mode "{mode}"')

    def no_weight_decay_keys(self) -> Tuple[str, ...]:
        """Official no-decay names besides biases/1-D (docs/official.md
        §1.6)."""
        return ('cls_token', 'pos_embed')
