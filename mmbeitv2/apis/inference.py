# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Features and class scores of images, mmpretrain-style.

Images are paths, PIL images or numpy arrays (RGB), run through the
config's test pipeline (or, for configs without one, e.g. pretraining:
shorter edge to round(S * 256 / 224) bicubic, center crop S), normalised
with the config's data preprocessor mean/std, and batched. Tensors are
taken as model inputs that are already preprocessed and normalised,
(3, H, W) or (B, 3, H, W), and go to the backbone as they are.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

# One extractor for the API, the tools and the kNN monitor (re-exported).
from mmbeitv2.evaluation.backbone_features import (  # noqa: F401
    FEATURE_KINDS, backbone_features)


def _backbone(model) -> torch.nn.Module:
    """The ViT inside an ImageClassifier, BEiTv2 (``backbone``) or
    VQKDTokenizer (``encoder``)."""
    for name in ('backbone', 'encoder'):
        if hasattr(model, name):
            return getattr(model, name)
    return model


def _config(model):
    cfg = getattr(model, 'cfg', None) or getattr(model, '_config', None)
    if cfg is None:
        raise ValueError('the model has no config attached; build it with '
                         'mmbeitv2.apis.get_model')
    return cfg


def test_pipeline_cfg(cfg, model) -> List[dict]:
    """The config's test pipeline, else the default one (module doc)."""
    for holder in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(holder)
        if loader and loader.get('dataset', {}).get('pipeline'):
            return list(loader['dataset']['pipeline'])
    if cfg.get('test_pipeline'):
        return list(cfg.test_pipeline)
    vit = _backbone(model)
    size = vit.patch_resolution[0] * vit.patch_embed.projection.stride[0]
    return [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=round(size * 256 / 224), edge='short',
             backend='pillow', interpolation='bicubic'),
        dict(type='CenterCrop', crop_size=size),
        dict(type='PackInputs'),
    ]


class ImagePipeline:
    """Path / PIL / RGB array -> (3, H, W) uint8 BGR tensor (the pipeline's
    ``inputs``; the model's ``to_rgb`` flips it back).

    Args:
        pipeline (list[dict]): Transforms; a leading ``*LoadImageFromFile``
            is skipped for in-memory images.
    """

    def __init__(self, pipeline: Sequence[dict]) -> None:
        from mmengine.registry import DefaultScope

        from mmbeitv2.registry import TRANSFORMS
        from mmbeitv2.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        with DefaultScope.overwrite_default_scope('mmbeitv2'):
            self.transforms = [TRANSFORMS.build(t) for t in pipeline]
        self.loads = str(pipeline[0]['type']).endswith('LoadImageFromFile')

    def __call__(self, image) -> torch.Tensor:
        if isinstance(image, str):
            data = dict(img_path=image)
            transforms = self.transforms
        else:
            if not isinstance(image, np.ndarray):
                image = np.asarray(image.convert('RGB'))
            img = np.ascontiguousarray(image[..., ::-1])  # RGB -> BGR
            data = dict(img=img, img_shape=img.shape[:2],
                        ori_shape=img.shape[:2])
            transforms = self.transforms[1:] if self.loads else \
                self.transforms
        for t in transforms:
            data = t(data)
            if data is None:
                raise ValueError(f'the test pipeline dropped {image!r}')
        return data['inputs']


class Normalize(torch.nn.Module):
    """The data preprocessor's ``(x[, rgb] - mean) / std`` in float32."""

    def __init__(self, preprocessor: Optional[dict]) -> None:
        super().__init__()
        pre = dict(preprocessor or {})
        mean = pre.get('mean') or [0., 0., 0.]
        std = pre.get('std') or [1., 1., 1.]
        self.to_rgb = bool(pre.get('to_rgb', pre.get('bgr_to_rgb', False)))
        self.register_buffer('mean', torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()  # (B, 3, H, W)
        if self.to_rgb:
            x = x.flip(1)
        return (x - self.mean) / self.std


class ImageListDataset(Dataset):
    """Images through an :class:`ImagePipeline`, for a DataLoader (the
    feature-extraction CLI streams a folder through it)."""

    def __init__(self, images: Sequence, pipeline: ImagePipeline) -> None:
        self.images = images
        self.pipeline = pipeline

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.pipeline(self.images[i])


def _as_list(images) -> list:
    if isinstance(images, (list, tuple)):
        return list(images)
    return [images]


def image_batches(model, images, batch_size: int = 32,
                  num_workers: int = 0):
    """Yield normalised (B, 3, H, W) batches of ``images`` (module doc)."""
    if isinstance(images, torch.Tensor):
        images = images[None] if images.dim() == 3 else images
        for i in range(0, len(images), batch_size):
            yield images[i:i + batch_size]
        return
    cfg = _config(model)
    pipeline = ImagePipeline(test_pipeline_cfg(cfg, model))
    normalize = Normalize(cfg.model.get('data_preprocessor'))
    loader = DataLoader(
        ImageListDataset(_as_list(images), pipeline),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=torch.stack)
    for batch in loader:
        yield normalize(batch)


@torch.no_grad()
def extract_features(model,
                     images,
                     kind: str = 'cls',
                     batch_size: int = 32) -> torch.Tensor:
    """Features of images (paths, PIL images, RGB arrays or tensors).

    Args:
        model: From :func:`get_model` (an ImageClassifier, ``BEiTv2`` or
            ``VQKDTokenizer``; the ViT inside is used).
        images: One image or a list; tensors: see the module doc.
        kind (str): ``'cls'``, ``'mean'``, ``'patch'`` or ``'layers'``
            (see :func:`backbone_features`). Defaults to ``'cls'``.
        batch_size (int): Images per forward. Defaults to 32.

    Returns:
        torch.Tensor: (N, C), (N, N_patches, C) or (N, L, C).
    """
    vit = _backbone(model)
    feats = [
        backbone_features(vit, x.to(_device(model)), kind)
        for x in image_batches(model, images, batch_size)
    ]
    return torch.cat(feats)


def _device(model) -> torch.device:
    return next(model.parameters()).device


def class_names(model, num_classes: int) -> List[str]:
    """``dataset_meta['classes']`` of the checkpoint, else of the config's
    test data set, else the indices as strings."""
    meta = getattr(model, 'dataset_meta', None) or getattr(
        model, '_dataset_meta', None) or {}
    classes = meta.get('classes')
    if classes is None:
        cfg = getattr(model, 'cfg', None)
        dataset = (cfg or {}).get('test_dataloader', {}) or {}
        dataset = dataset.get('dataset', {}) or {}
        classes = (dataset.get('metainfo') or {}).get('classes') or \
            dataset.get('classes')
    if classes is None or len(classes) != num_classes:
        return [str(i) for i in range(num_classes)]
    return list(classes)


@torch.no_grad()
def classify(model,
             images,
             topk: int = 5,
             batch_size: int = 32) -> List[List[Dict]]:
    """Top-k classes of images with a classifier from :func:`get_model`.

    Args:
        model (ImageClassifier): A fine-tuned or linear-probe model.
        images: One image or a list (see :func:`extract_features`).
        topk (int): Classes per image. Defaults to 5.
        batch_size (int): Images per forward. Defaults to 32.

    Returns:
        list[list[dict]]: Per image, ``topk`` dicts ``label`` (int),
        ``score`` (softmax probability) and ``class`` (name).
    """
    if not hasattr(model, 'head') or not hasattr(model, 'extract_feat'):
        raise ValueError('classify needs an ImageClassifier model')
    results = []
    names = None
    for x in image_batches(model, images, batch_size):
        feats = model.extract_feat(x.to(_device(model)))
        samples = model.head.predict(feats)
        scores = torch.stack([s.pred_score for s in samples])  # (B, K)
        if names is None:
            names = class_names(model, scores.shape[1])
        values, labels = scores.topk(min(topk, scores.shape[1]), dim=1)
        for v, lab in zip(values.tolist(), labels.tolist()):
            results.append([
                dict(label=i, score=s, **{'class': names[i]})
                for s, i in zip(v, lab)
            ])
    return results


def image_list(folder: str) -> List[str]:
    """Image files under ``folder`` (recursive), sorted."""
    import os
    import os.path as osp
    exts = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
            '.tiff', '.webp')
    found = []
    for root, _, files in os.walk(folder):
        found += [
            osp.join(root, f) for f in files if f.lower().endswith(exts)
        ]
    return sorted(found)
