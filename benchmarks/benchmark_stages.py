# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Models and batches of the three training stages, for mmbeitv2 and for
mmpretrain at the same math (``benchmarks/benchmark_train.py``).

Both sides get the same arch, image size, batch, masks, random init and
AdamW; each builder returns a :class:`Side` whose ``loss(batch)`` is one
training forward. The reference side is built in the ``mmpretrain`` scope.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Union

import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmpretrain.structures import DataSample
from torch import nn

from mmbeitv2.registry import MODELS

__all__ = [
    'Side', 'DEFAULT_OPTS', 'arch_settings', 'num_masked_patches',
    'make_batch', 'build_sides'
]

# The paper's tokenizer ("the base tokenizer"): ViT-B/16 encoder, 8192x32
# codebook, 3-layer decoder (docs/official.md §1.1), whatever the student arch
# is. Tests override these (tiny archs) through ``opts``.
DEFAULT_OPTS = dict(
    sdpa=True,  # fused attention in mmbeitv2
    with_cp=False,  # gradient checkpointing in mmbeitv2
    # BEiTv2(use_masked_only_last_blocks=...), the production default
    masked_only=True,
    ref_tokenizer_eval=False,  # mmpretrain tokenizer in eval (no EMA)
    patch_size=16,
    tokenizer_arch='base',
    num_embed=8192,
    code_dim=32,
    # VQ-KD teacher: open_clip ViT-B/16 image tower, random init
    # (pretrained=None: no download), frozen, forward only.
    teacher=dict(type='CLIPTeacher', model_name='ViT-B-16',
                 pretrained=None),
    teacher_dims=512)


@dataclass
class Side:
    """One model of the comparison: ``loss(batch)`` -> dict of tensors."""
    name: str
    model: nn.Module
    loss: Callable[[Dict], Dict[str, torch.Tensor]]
    lr: float


def arch_settings(arch: Union[str, dict]) -> dict:
    """``BEiTv2ViT.arch_zoo`` entry (or a dict, returned as is); mmpretrain
    gets the same dict. ``'small'`` is ViT-S/16 here (``'deit-small'``):
    the ``'small'`` BEiT preset of both zoos is a different, 768-wide
    model."""
    from mmbeitv2.models.backbones.beitv2_vit import BEiTv2ViT
    if isinstance(arch, str) and arch in ('s', 'small'):
        arch = 'deit-small'
    return dict(BEiTv2ViT.arch_zoo[arch] if isinstance(arch, str) else arch)


def num_masked_patches(img_size: int, patch_size: int = 16) -> int:
    """75 of the 14x14 patches (docs/official.md §2.4), scaled with the
    grid."""
    n = (img_size // patch_size)**2
    return max(1, round(n * 75 / 196))


def make_batch(stage: str, batch_size: int, img_size: int,
               device: torch.device, seed: int,
               patch_size: int = 16) -> Dict:
    """Random inputs: model view (normal), tokenizer view in [0, 1], masks
    with exactly :func:`num_masked_patches` per image, class labels.

    Pretraining masks come twice, each side's as its training pipeline
    hands them to the model: ``data_samples`` hold tensors on ``device``
    (mmpretrain's ``PackInputs`` makes a tensor, its data preprocessor moves
    it), ``data_samples_np`` numpy arrays (mmbeitv2's
    ``PackInputs(algorithm_keys=['mask'])`` leaves them on the host).
    """
    g = torch.Generator().manual_seed(seed)
    shape = (batch_size, 3, img_size, img_size)
    batch = dict(
        images=torch.randn(shape, generator=g).to(device),
        images01=torch.rand(shape, generator=g).to(device))
    if stage == 'pretrain':
        hw = img_size // patch_size
        m = num_masked_patches(img_size, patch_size)
        order = torch.rand(batch_size, hw * hw, generator=g).argsort(1)
        mask = torch.zeros(batch_size, hw * hw, dtype=torch.bool)
        mask.scatter_(1, order[:, :m], True)
        batch['mask'] = mask.to(device)  # (B, N)
        batch['data_samples'] = [
            DataSample().set_mask(mk.view(hw, hw)) for mk in batch['mask']
        ]
        batch['data_samples_np'] = [
            DataSample(mask=mk.view(hw, hw).numpy()) for mk in mask
        ]
    elif stage == 'finetune':
        labels = torch.randint(0, 1000, (batch_size, ), generator=g)
        batch['data_samples'] = [
            DataSample().set_gt_label(int(y)) for y in labels
        ]
    return batch


def _tokenizer_cfg(img_size: int, opts: dict,
                   teacher: Optional[dict]) -> dict:
    tok_arch = arch_settings(opts['tokenizer_arch'])
    return dict(
        type='VQKDTokenizer',
        encoder=dict(arch=tok_arch, img_size=img_size,
                     patch_size=opts['patch_size']),
        # 3-layer decoder on the code map (docs/official.md §1.1)
        decoder=dict(
            arch=tok_arch | dict(num_layers=3),
            img_size=img_size // opts['patch_size'],
            patch_size=1,
            in_channels=opts['code_dim']),
        # a frozen target gets a random unit codebook (no k-means in the
        # timed steps); VQ-KD training runs k-means in its warm-up step
        quantizer=dict(
            num_embed=opts['num_embed'], embed_dims=opts['code_dim'],
            kmeans_init=teacher is not None),
        decoder_out_dims=opts['teacher_dims'],
        teacher=teacher)


def _pretrain_ours(arch: dict, img_size: int, opts: dict) -> Side:
    L = arch['num_layers']
    early = L - 3  # 9 of 12 (docs/official.md §2.2)
    model = MODELS.build(
        dict(
            type='BEiTv2',
            backbone=dict(
                type='BEiTv2ViT', arch=arch, img_size=img_size,
                patch_size=opts['patch_size'],
                out_indices=[early - 1, L - 1], out_type='raw',
                final_norm=False, layer_scale_init_value=0.1,
                with_mask_token=True, use_shared_rel_pos_bias=True,
                use_rel_pos_bias=False, use_sdpa=opts['sdpa'],
                with_cp=opts['with_cp']),
            neck=dict(
                type='BEiTv2Neck', arch=arch, num_layers=2,
                early_layers=early, layer_scale_init_value=0.1,
                use_sdpa=opts['sdpa']),
            head=dict(type='MIMHead', embed_dims=arch['embed_dims'],
                      num_embed=opts['num_embed']),
            target_generator=_tokenizer_cfg(img_size, opts, None),
            use_masked_only_last_blocks=opts['masked_only']))

    def loss(b: Dict) -> Dict[str, torch.Tensor]:
        return model.loss([b['images'], b['images01']], b['data_samples_np'])

    return Side('mmbeitv2', model, loss, lr=1.5e-3)


def _pretrain_ref(arch: dict, img_size: int, opts: dict) -> Side:
    L = arch['num_layers']
    vqkd_encoder = dict(
        arch=arch_settings(opts['tokenizer_arch']), img_size=img_size,
        patch_size=opts['patch_size'], out_indices=-1,
        norm_cfg=dict(type='LN', eps=1e-6), final_norm=True,
        out_type='featmap', use_abs_pos_emb=True,
        use_rel_pos_bias=False, use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.)
    # mmpretrain's beitv2_beit-base-p16_8xb256-amp-coslr-300e_in1k model
    model = PRETRAIN_MODELS.build(
        dict(
            type='BEiT',
            backbone=dict(
                type='BEiTPretrainViT', arch=arch, img_size=img_size,
                patch_size=opts['patch_size'], out_indices=[-4, -1],
                final_norm=False, out_type='raw',
                layer_scale_init_value=0.1, init_cfg=[
                    dict(type='TruncNormal', std=0.02, layer='Linear'),
                    dict(type='TruncNormal', std=0.02, layer='Conv2d'),
                    dict(type='Constant', layer='LayerNorm', val=1.0,
                         bias=0.0)]),
            neck=dict(
                type='BEiTV2Neck', num_layers=2, early_layers=L - 3,
                backbone_arch=arch | dict(depth=L),
                layer_scale_init_value=0.1),
            head=dict(
                type='BEiTV2Head', embed_dims=arch['embed_dims'],
                num_embed=opts['num_embed'],
                loss=dict(type='CrossEntropyLoss')),
            target_generator=dict(
                type='VQKD', encoder_config=vqkd_encoder,
                num_embed=opts['num_embed'], embed_dims=opts['code_dim'],
                quantize_kmeans_init=False)))
    if opts['ref_tokenizer_eval']:
        model.target_generator.eval().requires_grad_(False)

    def loss(b: Dict) -> Dict[str, torch.Tensor]:
        if opts['ref_tokenizer_eval']:
            model.target_generator.eval()
        return model.loss([b['images'], b['images01']], b['data_samples'])

    return Side('mmpretrain', model, loss, lr=1.5e-3)


def _finetune_side(name: str, registry, arch: dict, img_size: int,
                   opts: dict, **backbone) -> Side:
    """An ``ImageClassifier`` at the fine-tuning settings both sides share
    (per-block relative position tables, layer scale 0.1, drop path 0.1,
    average pooling, lr 5e-4); ``backbone`` adds the backbone type and the
    side's own arguments."""
    model = registry.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                arch=arch, img_size=img_size, patch_size=opts['patch_size'],
                out_type='avg_featmap', use_rel_pos_bias=True,
                use_shared_rel_pos_bias=False, layer_scale_init_value=0.1,
                drop_path_rate=0.1, **backbone),
            head=dict(
                type='LinearClsHead', num_classes=1000,
                in_channels=arch['embed_dims'],
                loss=dict(type='CrossEntropyLoss'))))
    return Side(name, model,
                lambda b: model.loss(b['images'], b['data_samples']),
                lr=5e-4)


def _finetune_ours(arch: dict, img_size: int, opts: dict) -> Side:
    return _finetune_side(
        'mmbeitv2', MODELS, arch, img_size, opts, type='BEiTv2ViT',
        init_style='finetune', use_sdpa=opts['sdpa'],
        with_cp=opts['with_cp'])


def _finetune_ref(arch: dict, img_size: int, opts: dict) -> Side:
    return _finetune_side('mmpretrain', PRETRAIN_MODELS, arch, img_size,
                          opts, type='BEiTViT', final_norm=False)


def _vqkd_ours(arch: dict, img_size: int, opts: dict) -> Side:
    # Teacher included in the step (forward only, no grad).
    cfg = _tokenizer_cfg(img_size, opts, opts['teacher'])
    cfg['encoder'] = dict(arch=arch, img_size=img_size,
                          patch_size=opts['patch_size'],
                          use_sdpa=opts['sdpa'], with_cp=opts['with_cp'])
    model = MODELS.build(cfg)
    return Side('mmbeitv2', model, lambda b: model.loss(b['images01']),
                lr=2e-4)


_BUILDERS = dict(
    pretrain=(_pretrain_ours, _pretrain_ref),
    finetune=(_finetune_ours, _finetune_ref),
    vqkd=(_vqkd_ours, None))


def build_sides(stage: str, arch: Union[str, dict], img_size: int,
                device: torch.device, opts: Optional[dict] = None,
                with_ref: bool = True) -> List[Side]:
    """Build, init and move both models of ``stage`` (the reference only
    where mmpretrain has one: not for VQ-KD training).

    Args:
        stage (str): ``'pretrain'``, ``'finetune'`` or ``'vqkd'``.
        arch (str | dict): ``BEiTv2ViT.arch_zoo`` key, e.g. ``'small'``.
        img_size (int): Input size.
        device (torch.device): Where to put the models.
        opts (dict, optional): Overrides of :data:`DEFAULT_OPTS`.
            Defaults to None.
        with_ref (bool): Build the mmpretrain model too. Defaults to True.

    Returns:
        list[Side]: mmbeitv2 first.
    """
    opts = {**DEFAULT_OPTS, **(opts or {})}
    ours, ref = _BUILDERS[stage]
    settings = arch_settings(arch)
    sides = []
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        sides.append(ours(settings, img_size, opts))
    if ref is not None and with_ref:
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            sides.append(ref(settings, img_size, opts))
    for side in sides:
        side.model.init_weights()
        side.model.to(device).train()
    return sides
