# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2 models with random weights saved as checkpoints, for the
export/import round trips, and the converter tools as modules."""
import importlib.util
import os.path as osp

import torch
from mmengine.registry import DefaultScope

from mmbeitv2.registry import MODELS as _MODELS
from mmbeitv2.utils import register_all_modules

register_all_modules()
ROOT = osp.join(osp.dirname(__file__), '..', '..')
TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
BASE = 'base'
PRETRAIN = dict(out_type='raw', use_shared_rel_pos_bias=True,
                use_rel_pos_bias=False, with_mask_token=True)
FINETUNE = dict(out_type='avg_featmap', use_shared_rel_pos_bias=False,
                use_rel_pos_bias=True)


class MODELS:
    """``build`` in the mmbeitv2 scope, whatever scope an earlier test left
    current (e.g. mmseg's)."""

    @staticmethod
    def build(cfg: dict):
        with DefaultScope.overwrite_default_scope('mmbeitv2'):
            return _MODELS.build(cfg)


def tool(name: str):
    """``tools/model_converters/<name>.py`` as a module."""
    path = osp.join(ROOT, 'tools', 'model_converters', name + '.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _randomise(model: torch.nn.Module) -> None:
    torch.manual_seed(0)
    for p in model.parameters():  # zero tables / unit gammas hide bugs
        torch.nn.init.normal_(p, std=0.1)


def backbone(arch=TINY, img_size=32, patch_size=8, **kwargs):
    model = MODELS.build(
        dict(type='BEiTv2ViT', arch=arch, img_size=img_size,
             patch_size=patch_size, **kwargs))
    _randomise(model)
    return model.eval()


def classifier(arch=TINY, img_size=32, patch_size=8, num_classes=5,
               **kwargs):
    """A fine-tuned ``ImageClassifier`` (per-block tables, ``ln2``)."""
    embed = arch['embed_dims'] if isinstance(arch, dict) else 768
    model = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='BEiTv2ViT', arch=arch, img_size=img_size,
                           patch_size=patch_size,
                           **dict(FINETUNE, **kwargs)),
             head=dict(type='LinearClsHead', num_classes=num_classes,
                       in_channels=embed)))
    _randomise(model)
    return model.eval()


def logits(model, x: torch.Tensor) -> torch.Tensor:
    """Our classifier's scores before softmax."""
    return model.head.fc(model.backbone(x)[-1])


def save_pretrain(path: str, vit) -> str:
    """A ``BEiTv2``-shaped checkpoint: the backbone plus stand-ins of what
    the exporters must drop (neck, MIM head, tokenizer)."""
    sd = {'backbone.' + k: v for k, v in vit.state_dict().items()}
    sd['neck.norm.weight'] = torch.ones(3)
    sd['head.cls_head.weight'] = torch.ones(3)
    sd['target_generator.quantize.embedding.weight'] = torch.ones(3)
    torch.save({'state_dict': sd, 'meta': dict(iter=1)}, path)
    return path


def save_model(path: str, model) -> str:
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def export_model(tmp_path, model, converter: str, dst: str) -> str:
    """Save ``model`` as ``tmp_path/ft.pth`` and convert it with
    ``tools/model_converters/<converter>.py`` to ``tmp_path/<dst>``.

    Returns:
        str: The converter's output path.
    """
    src = save_model(str(tmp_path / 'ft.pth'), model)
    out = str(tmp_path / dst)
    tool(converter).main([src, out])
    return out
