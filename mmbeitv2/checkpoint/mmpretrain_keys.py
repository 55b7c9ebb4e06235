# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2 -> mmpretrain 1.2 ``BEiTViT``: the keys are already
mmpretrain's (``BEiTv2ViT`` keeps its names), so the map only drops what
``BEiTViT`` has no place for (``mask_token``) and writes the config that
builds the same model (``ImageClassifier`` + ``BEiTViT`` + ``LinearClsHead``
when the checkpoint has a head)."""
import pprint
from collections import OrderedDict
from typing import Dict, Optional

import torch

Tensors = Dict[str, torch.Tensor]


def mmbeitv2_to_mmpretrain(backbone: Tensors,
                           head: Optional[dict] = None) -> 'OrderedDict':
    """Bare ``BEiTv2ViT`` keys (+ linear head) -> an mmpretrain
    ``ImageClassifier`` state dict (``backbone.*``, ``head.fc.*``)."""
    out = OrderedDict(('backbone.' + k, v) for k, v in backbone.items()
                      if k != 'mask_token')
    if head is not None:
        out['head.fc.weight'] = head['weight']
        if head.get('bias') is not None:
            out['head.fc.bias'] = head['bias']
    return out


def mmpretrain_model_cfg(settings: dict, num_classes: int = 0) -> dict:
    """The mmpretrain ``model`` dict of the exported weights.

    Args:
        settings (dict): ``infer_settings`` output.
        num_classes (int): Classes of the linear head; 0 for none.
            Defaults to 0.

    Returns:
        dict: ``type='ImageClassifier'`` with a ``BEiTViT`` backbone.
    """
    backbone = dict(
        type='BEiTViT',
        arch=dict(settings['arch']),
        img_size=settings['img_size'],
        patch_size=settings['patch_size'],
        in_channels=settings['in_channels'],
        out_type='avg_featmap' if settings['out_type'] == 'avg_featmap'
        else 'cls_token' if settings['final_norm'] else 'raw',
        final_norm=settings['final_norm'],
        use_abs_pos_emb=settings['use_abs_pos_emb'],
        use_rel_pos_bias=settings['use_rel_pos_bias'],
        use_shared_rel_pos_bias=settings['use_shared_rel_pos_bias'],
        layer_scale_init_value=settings['layer_scale_init_value'])
    model = dict(
        type='ImageClassifier',
        data_preprocessor=dict(
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True),
        backbone=backbone)
    if num_classes:
        model['head'] = dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=settings['arch']['embed_dims'],
            loss=dict(type='CrossEntropyLoss'))
    return model


def mmpretrain_config_text(model: dict,
                           load_from: Optional[str] = None) -> str:
    """A python config file holding ``model`` and ``load_from`` (read by
    mmpretrain's ``get_model(CONFIG, pretrained=True)`` and
    ``tools/test.py``)."""
    lines = ['# Written by tools/model_converters/mmbeitv2_to_mmpretrain.py',
             "default_scope = 'mmpretrain'",
             'model = ' + pprint.pformat(model, sort_dicts=False)]
    if load_from:
        lines.append(f'load_from = {load_from!r}')
    return '\n'.join(lines) + '\n'
