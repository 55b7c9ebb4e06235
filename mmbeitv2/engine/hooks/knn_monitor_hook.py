# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""kNN top-1 of the frozen backbone during pretraining (docs/monitor.md)."""
import time
from typing import Dict, Optional, Tuple

import torch
from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmpretrain.models.utils import SelfSupDataPreprocessor
from torch import nn

from mmbeitv2.errors import ConfigValueError
from mmbeitv2.evaluation.backbone_features import backbone_features
from mmbeitv2.evaluation.knn import knn_top1
from mmbeitv2.registry import HOOKS

SCALAR = 'monitor/knn_top1'
FEATURES = {'cls': '[CLS]', 'mean': 'mean patch token'}


def normalised_images(model: nn.Module, data: dict) -> torch.Tensor:
    """Backbone inputs of a single-view batch, normalised as the model's
    first view.

    mmpretrain's pretraining preprocessors (``SelfSupDataPreprocessor`` of
    MAE and its subclass ``TwoNormDataPreprocessor`` of BEiT v2) take a list
    of views, and the two-norm one needs two (the second is the
    tokenizer's), so the batch goes in twice and the first view comes out.

    Args:
        model (nn.Module): The unwrapped model.
        data (dict): A ``default_collate`` batch: ``inputs`` (B, 3, H, W)
            uint8, ``data_samples``.

    Returns:
        torch.Tensor: (B, 3, H, W) float on the model's device.
    """
    pre = model.data_preprocessor
    if isinstance(pre, SelfSupDataPreprocessor):
        views = dict(data, inputs=[data['inputs']] * 2)
        return pre(views, False)['inputs'][0]
    return pre(data, False)['inputs']


def _gather(index: torch.Tensor, feats: torch.Tensor, labels: torch.Tensor,
            size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Every rank's (index, feature, label) rows -> the whole split in
    dataset order, on every rank. A padded sampler (DefaultSampler's
    ``round_up``) repeats a few images: they land on the same row."""
    parts = all_gather_object((index, feats, labels))
    index = torch.cat([p[0] for p in parts])
    full_feats = feats.new_zeros(size, feats.shape[1])  # (N, C)
    full_labels = labels.new_zeros(size)  # (N, )
    full_feats[index] = torch.cat([p[1] for p in parts])
    full_labels[index] = torch.cat([p[2] for p in parts])
    seen = torch.zeros(size, dtype=torch.bool)
    seen[index] = True
    if not seen.all():
        raise RuntimeError(
            f'KNNMonitorHook: {int((~seen).sum())} of {size} images were '
            'seen by no rank; give the monitor dataloaders a sampler that '
            "covers the data set (dict(type='DefaultSampler', "
            'shuffle=False))')
    return full_feats, full_labels


@torch.no_grad()
def extract_split(model: nn.Module, loader, feature: str
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of a whole labelled split; each rank runs the
    images of its sampler shard and the rows are gathered.

    Args:
        model (nn.Module): The unwrapped model (``backbone`` in eval mode).
        loader (DataLoader): Batches of ``PackInputs`` samples carrying
            ``sample_idx`` and ``gt_label``.
        feature (str): ``'cls'`` or ``'mean'`` (see
            :func:`backbone_features`).

    Returns:
        tuple: (N, C) float features and (N, ) long labels, dataset order.
    """
    index, feats, labels = [], [], []
    for data in loader:
        samples = data['data_samples']
        if 'sample_idx' not in samples[0]:
            raise ConfigValueError(
                'KNNMonitorHook: the monitor data samples carry no '
                "sample_idx; keep 'sample_idx' in PackInputs' meta_keys")
        x = normalised_images(model, data)
        feats.append(backbone_features(model.backbone, x, feature).cpu())
        index += [s.sample_idx for s in samples]
        labels += [int(s.gt_label[0]) for s in samples]
    return _gather(
        torch.tensor(index, dtype=torch.long),
        torch.cat(feats).float(), torch.tensor(labels, dtype=torch.long),
        len(loader.dataset))


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """kNN top-1 of the frozen backbone, a live quality signal during
    pretraining (BEiT v2, mmpretrain's MAE).

    Every ``interval`` training iterations and at the end of training, the
    backbone (in eval mode, without gradients; its train mode is restored
    after) embeds a small labelled ``bank`` split and a ``query`` split,
    unmasked; each query is classified by DINO's weighted kNN
    (:func:`mmbeitv2.evaluation.knn.knn_predict`, ``eval_knn.py``: cosine
    similarity of l2-normalised features, ``k`` neighbours voting with
    ``exp(sim / T)``). The top-1 (%) goes to the message hub and the
    visualizer (scalars json, TensorBoard) as ``monitor/knn_top1``, at the
    step of the iterations done, plus one log line.

    Distributed: each rank embeds the images of its sampler shard; the rows
    are gathered (by ``sample_idx``) on every rank, so each computes the
    kNN on the whole splits and the result equals the single-process one.

    Args:
        bank_dataloader (dict): The labelled neighbours (mmengine
            dataloader config, e.g. a ``CustomDataset`` with the test
            pipeline and ``sampler=dict(type='DefaultSampler',
            shuffle=False)``).
        query_dataloader (dict): The labelled images to classify, as
            ``bank_dataloader``.
        interval (int): Training iterations between two measurements.
            Defaults to 1000.
        k (int): Neighbours. Defaults to 20 (DINO).
        temperature (float): T of the vote weights. Defaults to 0.07 (DINO).
        feature (str): ``'cls'`` the last block's [CLS] (DINO's kNN
            feature) or ``'mean'`` the mean of its patch tokens. Defaults to
            ``'cls'``.
    """
    priority = 'NORMAL'

    def __init__(self,
                 bank_dataloader: dict,
                 query_dataloader: dict,
                 interval: int = 1000,
                 k: int = 20,
                 temperature: float = 0.07,
                 feature: str = 'cls') -> None:
        if not (isinstance(interval, int) and interval >= 1):
            raise ConfigValueError(
                f'KNNMonitorHook: interval={interval!r} must be an integer '
                '>= 1 (training iterations between measurements)')
        if not (isinstance(k, int) and k >= 1):
            raise ConfigValueError(
                f'KNNMonitorHook: k={k!r} must be an integer >= 1')
        if not temperature > 0:
            raise ConfigValueError(
                f'KNNMonitorHook: temperature={temperature!r} must be > 0')
        if feature not in FEATURES:
            raise ConfigValueError(
                f'KNNMonitorHook: feature={feature!r} must be one of '
                f'{tuple(FEATURES)}')
        self.dataloader_cfgs = dict(
            bank=bank_dataloader, query=query_dataloader)
        self.interval = interval
        self.k = k
        self.temperature = temperature
        self.feature = feature
        self._loaders: Optional[Dict] = None
        self._last_step = -1

    def build_loaders(self, seed: Optional[int] = None) -> None:
        """Build the bank and query dataloaders (each rank its shard)."""
        self._loaders = {
            name: Runner.build_dataloader(cfg, seed=seed)
            for name, cfg in self.dataloader_cfgs.items()
        }

    def before_train(self, runner) -> None:
        # Before the first iteration, so a wrong data path fails now, not
        # after `interval` iterations.
        self.build_loaders(runner.seed)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._measure(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        if runner.iter != self._last_step:
            self._measure(runner, runner.iter)

    def measure(self, model: nn.Module) -> Tuple[float, int, int]:
        """The monitor's measurement, without a runner.

        Args:
            model (nn.Module): The model (wrapped or not); its backbone is
                put in eval mode for the measurement and back after it.
                :meth:`build_loaders` must have run.

        Returns:
            tuple: top-1 (%), bank size, query size.
        """
        if is_model_wrapper(model):
            model = model.module
        backbone = model.backbone
        was_training = backbone.training
        backbone.eval()
        try:
            bank, bank_labels = extract_split(model, self._loaders['bank'],
                                              self.feature)
            query, query_labels = extract_split(
                model, self._loaders['query'], self.feature)
        finally:
            backbone.train(was_training)
        device = next(backbone.parameters()).device
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
        top1 = knn_top1(
            bank.to(device), bank_labels, query.to(device), query_labels,
            num_classes, self.k, self.temperature)
        return top1, len(bank), len(query)

    def _measure(self, runner, step: int) -> None:
        """Measure and log at ``step`` (training iterations done)."""
        start = time.time()
        top1, num_bank, num_query = self.measure(runner.model)
        self._last_step = step
        runner.message_hub.update_scalar(SCALAR, top1)
        runner.visualizer.add_scalars({SCALAR: top1}, step=step)
        runner.logger.info(
            f'kNN monitor, iteration {step}: top-1 {top1:.2f}% '
            f'({self.k}-NN, T={self.temperature}, '
            f'{FEATURES[self.feature]} of the last block; {num_bank} bank / '
            f'{num_query} query images, {time.time() - start:.1f} s)')
