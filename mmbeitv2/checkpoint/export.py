# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Export an mmbeitv2 checkpoint (``BEiTv2`` pretraining, fine-tuned
``ImageClassifier`` or bare backbone) to timm and Hugging Face: the library
side of ``tools/model_converters/mmbeitv2_to_{timm,hf}.py`` and of the
own-data pipeline's export stage.

timm and transformers are imported inside the functions: they are optional
dependencies of the package.
"""
import os
import os.path as osp
from typing import Optional

import torch

from mmbeitv2.errors import UserInputError
from .hf_keys import hf_config_kwargs, mmbeitv2_to_hf
from .io import load_checkpoint_file, unwrap_state_dict
from .layouts import extract_backbone
from .mmbeitv2_layout import (fill_fresh, infer_settings, read_checkpoint,
                              split_checkpoint)
from .timm_keys import mmbeitv2_to_timm

# timm's BEiT v2 names by (width, depth); any other architecture is built
# from the base name with its own sizes as keyword arguments.
TIMM_NAMES = {
    (768, 12): 'beitv2_base_patch16_224',
    (1024, 24): 'beitv2_large_patch16_224',
}


def timm_model_kwargs(settings: dict) -> dict:
    """``timm.create_model`` keyword arguments of a ``BEiTv2ViT``.

    Args:
        settings (dict): As :func:`infer_settings` returns them.

    Returns:
        dict: ``img_size``, ``patch_size``, ``embed_dim``, ``depth``,
        ``num_heads``, ``mlp_ratio``, ``in_chans`` and ``init_values``
        (layer scale; None without it), for any ``beitv2_*`` name.
    """
    arch = settings['arch']
    return dict(
        img_size=settings['img_size'],
        patch_size=settings['patch_size'],
        in_chans=settings['in_channels'],
        embed_dim=arch['embed_dims'],
        depth=arch['num_layers'],
        num_heads=arch['num_heads'],
        mlp_ratio=arch['feedforward_channels'] / arch['embed_dims'],
        init_values=settings['layer_scale_init_value'] or None)


def timm_name(settings: dict) -> str:
    """The timm name of the architecture (the base name for others)."""
    arch = settings['arch']
    return TIMM_NAMES.get((arch['embed_dims'], arch['num_layers']),
                          TIMM_NAMES[(768, 12)])


def export_timm(src: str,
                dst: str,
                model: str = 'beitv2_base_patch16_224',
                model_kwargs: Optional[dict] = None) -> dict:
    """Convert ``src`` to a timm ``Beit`` state dict and write ``dst``.

    The file loads with ``strict=True`` into ``timm.create_model(model,
    pretrained=False, num_classes=N, **model_kwargs)`` (N = the
    classifier's classes, 0 for a backbone), which is built here to check
    it.

    Args:
        src (str): An mmbeitv2 checkpoint.
        dst (str): Output ``.pth`` or ``.safetensors``.
        model (str): timm model name. Defaults to
            ``'beitv2_base_patch16_224'``.
        model_kwargs (dict, optional): Extra ``create_model`` arguments,
            e.g. :func:`timm_model_kwargs` for an architecture timm has no
            name for. Defaults to None.

    Returns:
        dict: ``kind``, ``num_classes``, ``added`` (keys started as the
        identity), ``dropped`` and ``tensors``.
    """
    import timm
    parts = split_checkpoint(read_checkpoint(src), src)
    settings = infer_settings(parts['backbone'])
    if settings['use_abs_pos_emb']:
        raise UserInputError(f'{src}: a backbone with pos_embed is not a '
                             'timm beitv2 model')
    head = parts['head']
    num_classes = 0 if head is None else head['weight'].shape[0]
    state_dict = mmbeitv2_to_timm(parts['backbone'], head)
    try:
        target = timm.create_model(
            model, pretrained=False, num_classes=num_classes,
            **(model_kwargs or {}))
    except RuntimeError as exc:
        raise UserInputError(f'--model {model}: {exc}') from exc
    added = fill_fresh(state_dict, target.state_dict())
    try:
        target.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1:3]
        raise UserInputError(
            f'{src} does not fit timm {model} (arch {settings["arch"]}, '
            f'img_size {settings["img_size"]}): {" ".join(first)[:300]}; '
            'pick the matching --model') from exc
    if dst.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in state_dict.items()}, dst)
    else:
        torch.save(state_dict, dst)
    return dict(kind=parts['kind'], num_classes=num_classes, added=added,
                dropped=parts['dropped'], tensors=len(state_dict))


def export_hf(src: str, dst_dir: str,
              num_heads: Optional[int] = None) -> dict:
    """Convert ``src`` to a Hugging Face ``save_pretrained`` folder.

    ``transformers.BeitModel.from_pretrained(dst_dir)`` (a backbone) or
    ``BeitForImageClassification.from_pretrained(dst_dir)`` (with a linear
    head) loads it without missing or unexpected keys; the folder also
    holds our evaluation preprocessing (:func:`save_image_processor`).

    Args:
        src (str): An mmbeitv2 checkpoint.
        dst_dir (str): Output folder.
        num_heads (int, optional): Only for a backbone without relative
            position tables. Defaults to None.

    Returns:
        dict: ``kind``, ``cls`` (the transformers class), ``added``,
        ``dropped`` and ``tensors``.
    """
    from transformers import (BeitConfig, BeitForImageClassification,
                              BeitModel)
    parts = split_checkpoint(read_checkpoint(src), src)
    settings = infer_settings(parts['backbone'], num_heads)
    head = parts['head']
    num_labels = 0 if head is None else head['weight'].shape[0]
    try:
        config = BeitConfig(**hf_config_kwargs(settings, num_labels))
    except ValueError as exc:
        raise UserInputError(f'{src}: {exc}') from exc
    if head is None:
        model, prefix = BeitModel(config, add_pooling_layer=True), ''
    else:
        model, prefix = BeitForImageClassification(config), 'beit.'
    state_dict = mmbeitv2_to_hf(parts['backbone'], head, prefix)
    added = fill_fresh(state_dict, model.state_dict())
    result = model.load_state_dict(state_dict, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model.save_pretrained(dst_dir)
    save_image_processor(dst_dir, settings['img_size'])
    return dict(kind=parts['kind'], cls=type(model).__name__, added=added,
                dropped=parts['dropped'], tensors=len(state_dict))


def save_image_processor(dst_dir: str, size: int) -> None:
    """``preprocessor_config.json`` of our test pipeline: ImageNet mean/std
    (not BEiT v1's 0.5), bicubic resize to round(S * 256 / 224) and center
    crop S. HF resizes both sides, so for non-square images it differs from
    our shorter-edge resize."""
    from transformers import BeitImageProcessor
    resize = round(size * 256 / 224)
    BeitImageProcessor(
        do_resize=True,
        size=dict(height=resize, width=resize),
        resample=3,  # PIL bicubic
        do_center_crop=True,
        crop_size=dict(height=size, width=size),
        do_rescale=True,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        do_reduce_labels=False).save_pretrained(dst_dir)


def export_backbone(src: str, out_dir: str, trusted: bool = False) -> dict:
    """The backbone of a pretraining checkpoint in every format: mmbeitv2
    (``backbone.pth``, keys under ``backbone.`` as
    ``tools/model_converters/extract_backbone.py`` writes them: fine-tuning,
    probing, mmseg), timm (``timm_beitv2.safetensors``) and Hugging Face
    (``hf/``, ``save_pretrained``).

    Args:
        src (str): A ``BEiTv2`` training checkpoint.
        out_dir (str): Output folder (made if missing).
        trusted (bool): Full unpickling of ``src`` (a file you made).
            Defaults to False.

    Returns:
        dict: The three paths, the timm name and keyword arguments that
        rebuild the model (``timm.create_model(name, pretrained=False,
        num_classes=0, **kwargs)``) and the backbone settings.
    """
    os.makedirs(out_dir, exist_ok=True)
    state_dict, _ = unwrap_state_dict(load_checkpoint_file(src, trusted))
    backbone = extract_backbone(state_dict)
    if not backbone:
        raise UserInputError(f'{src} has no backbone.* keys')
    mm_path = osp.join(out_dir, 'backbone.pth')
    torch.save({'state_dict': backbone}, mm_path)
    parts = split_checkpoint(backbone, mm_path)
    settings = infer_settings(parts['backbone'])
    name, kwargs = timm_name(settings), timm_model_kwargs(settings)
    timm_path = osp.join(out_dir, 'timm_beitv2.safetensors')
    export_timm(mm_path, timm_path, name, kwargs)
    hf_dir = osp.join(out_dir, 'hf')
    export_hf(mm_path, hf_dir)
    return dict(mmbeitv2=mm_path, timm=timm_path, timm_model=name,
                timm_kwargs=kwargs, hf=hf_dir, settings=settings)
