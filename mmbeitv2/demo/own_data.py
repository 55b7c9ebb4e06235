# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""One's own images to an exported BEiT v2 backbone
(``tools/pretrain_own_data.py``): the demo's stage chain
(:class:`~mmbeitv2.demo.pipeline.Pipeline`: reuse, resume, ``--force``,
logs, timings) with other stages.

1. ``vqkd``      VQ-KD tokenizer on every image under ``--data``
2. ``pretrain``  BEiT v2 on the frozen tokenizer (kNN monitor with
   ``--labels``)
3. ``probe``, ``probe_random``  feature probe of the pretrained and of a
   random-init backbone on ``--labels`` (only with it)
4. ``export``    the backbone for mmbeitv2 / mmpretrain / mmseg, timm and
   Hugging Face

Each stage's full config is written into its work dir before it runs
(:mod:`.own_data_configs`); training stages run ``tools/train.py`` (or
``tools/dist_train.sh CONFIG N`` with ``--gpus N``). See docs/own_data.md.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from .own_data_configs import StageConfigs, parse_options, teacher_config
from .own_data_recipes import ARCHS, TEACHERS
from .pipeline import REPO_ROOT, Pipeline

STAGES = ('vqkd', 'pretrain', 'probe', 'probe_random', 'export')
# stage -> config file name in its work dir ({tag}: the architecture,
# {teacher}: --teacher)
CONFIG_NAMES = dict(
    vqkd='vqkd_{tag}_{teacher}_own-data.py',
    pretrain='beitv2_{tag}_{teacher}-vqkd-pre_own-data.py',
    probe='feature-probe_{tag}_beitv2-pre_own-labels.py',
    probe_random='feature-probe_{tag}_random-init_own-labels.py')
ARCH_TAGS = {'cpu': 'vit-4x128-p4', 'vit-s': 'vit-small-p16',
             'vit-b': 'vit-base-p16', 'vit-l': 'vit-large-p16',
             'tiny': 'vit-2x64-p4'}


def parse_teacher(value: str) -> Tuple[str, Optional[str]]:
    """``NAME`` or ``NAME=WEIGHTS_FILE`` -> (name, weights or None)."""
    name, sep, weights = value.partition('=')
    if name not in TEACHERS:
        hint = (' (a weights file goes after the teacher it is for: '
                f'--teacher clip-b16={value})' if osp.isfile(value) else '')
        raise SystemExit(f'--teacher {value!r}: use one of '
                         f'{", ".join(TEACHERS)}, or NAME=WEIGHTS_FILE{hint}')
    if sep and not osp.isfile(weights):
        raise SystemExit(f'--teacher {value!r}: {weights} is not a file')
    return name, (weights if sep else None)


def count_images(root: str) -> List[str]:
    """Paths of every image under ``root`` as ``UnlabeledImageFolder``
    finds them (recursive, mmpretrain's image extensions)."""
    from mmengine.registry import DefaultScope

    from mmbeitv2.registry import DATASETS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        dataset = DATASETS.build(
            dict(type='UnlabeledImageFolder', data_root=root, pipeline=[]))
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]


def read_labels(root: str) -> Dict:
    """The ``--labels`` ImageFolder: ``train/`` and ``val/`` (or
    ``test/``), with their sizes and classes."""
    val = 'val' if osp.isdir(osp.join(root, 'val')) else 'test'
    if not (osp.isdir(osp.join(root, 'train'))
            and osp.isdir(osp.join(root, val))):
        raise SystemExit(f'--labels {root}: needs train/<class>/* and '
                         'val/<class>/* (or test/<class>/*)')
    from mmbeitv2.datasets import ImageFolder
    sizes = {split: len(ImageFolder(data_root=root, data_prefix=split))
             for split in ('train', val)}
    classes = sorted(d for d in os.listdir(osp.join(root, 'train'))
                     if osp.isdir(osp.join(root, 'train', d)))
    return dict(root=root, val_split=val, num_train=sizes['train'],
                num_val=sizes[val], num_classes=len(classes))


class OwnDataPipeline(Pipeline):
    """The stages of ``tools/pretrain_own_data.py`` on the demo's chain.

    Args:
        args (argparse.Namespace): The options of
            ``tools/pretrain_own_data.py``.
        root (str): The checkout whose tools and configs the stages run.
            Defaults to the one this package is imported from.
    """
    log_name = 'pretrain_own_data'

    def __init__(self, args: argparse.Namespace,
                 root: str = REPO_ROOT) -> None:
        self.args = args
        self.root = root
        self.recipe = ARCHS[args.arch]
        self.teacher, self.teacher_weights = parse_teacher(args.teacher)
        self.epochs = tuple(args.epochs or self.recipe['epochs'])
        self.configs = StageConfigs(self.recipe, root,
                                    parse_options(args.options))
        self.data = osp.abspath(args.data)
        stages = [s for s in STAGES
                  if args.labels or not s.startswith('probe')]
        self.init_chain(osp.abspath(
            args.work_dir or osp.join('work_dirs', f'own_data_{args.arch}')),
            stages)
        named = set(args.force or ()) | set(args.stages or ())
        if named - set(stages):
            raise SystemExit(f'--force / --stages {" ".join(sorted(named))}'
                             ': the probe stages need --labels')
        self.cfgs: Dict = {}
        # what report.token_maps_picture reads: the tokenizer's config
        self.preset: Dict[str, str] = {}

    def prepare_data(self) -> None:
        """Find the images and labels, build every stage's config."""
        if not osp.isdir(self.data):
            raise SystemExit(f'--data {self.data}: not a folder')
        self.images = count_images(self.data)
        self.labels = read_labels(osp.abspath(self.args.labels)) \
            if self.args.labels else None
        self.log(f'data: {len(self.images)} images under {self.data}' + (
            '' if self.labels is None else
            f'; labels: {self.labels["num_classes"]} classes, '
            f'{self.labels["num_train"]} train / {self.labels["num_val"]} '
            f'{self.labels["val_split"]} images in {self.labels["root"]}'))
        self.build_configs()

    def config_path(self, stage: str) -> str:
        """Where a stage's full config is written: its work dir."""
        name = CONFIG_NAMES[stage].format(tag=ARCH_TAGS[self.args.arch],
                                          teacher=self.teacher)
        return osp.join(self.work_dir, stage, name)

    def build_configs(self) -> None:
        """Every stage's config (written when the stage runs)."""
        teacher, dims = teacher_config(self.teacher, self.root,
                                       self.teacher_weights)
        n, gpus = len(self.images), self.args.gpus
        c = self.configs
        self.cfgs['vqkd'] = c.vqkd(self.data, n, gpus, self.epochs[0],
                                   teacher, dims)
        self.cfgs['pretrain'] = c.pretrain(
            self.data, n, gpus, self.epochs[1], self.cfgs['vqkd'],
            self.ckpt('vqkd'), self.labels)
        if self.labels is not None:
            self.cfgs['probe'] = c.probe(self.cfgs['pretrain'], self.labels,
                                         self.ckpt('pretrain'))
            self.cfgs['probe_random'] = c.probe(self.cfgs['pretrain'],
                                                self.labels, None)
        self.preset['vqkd'] = self.config_path('vqkd')

    def ckpt(self, stage: str) -> str:
        """The final checkpoint of a training stage."""
        epochs = self.epochs[('vqkd', 'pretrain').index(stage)]
        return osp.join(self.work_dir, stage, f'epoch_{epochs}.pth')

    def stage_plan(self, stage: str) -> Dict:
        """Command (or in-process call), output and done-marker of one
        stage (see :class:`Pipeline`)."""
        sdir = osp.join(self.work_dir, stage)
        if stage == 'export':
            return dict(call=self.export, dir=sdir,
                        done=osp.join(sdir, 'export.json'))
        config = self.config_path(stage)
        if stage.startswith('probe'):
            cmd = ['tools/analysis_tools/feature_probe.py', config,
                   '--work-dir', sdir]
            return dict(cmd=cmd, done=osp.join(sdir, 'probe.json'),
                        dir=sdir, config=config)
        done = self.ckpt(stage)
        extra = ['--work-dir', sdir, *self.train_flags(stage, sdir, done)]
        plan = dict(done=done, dir=sdir, config=config)
        if self.args.gpus > 1:  # torchrun, one process per GPU
            plan.update(launcher='bash', cmd=[
                'tools/dist_train.sh', config, str(self.args.gpus), *extra])
        else:
            plan['cmd'] = ['tools/train.py', config, *extra]
        return plan

    def execute(self, stage: str, plan: Dict) -> float:
        """Write the stage's config into its work dir, then run it."""
        if 'config' in plan:
            os.makedirs(plan['dir'], exist_ok=True)
            self.cfgs[stage].dump(plan['config'])
        return super().execute(stage, plan)

    def export(self) -> None:
        """the backbone to mmbeitv2, timm and Hugging Face (in process)

        Writes ``<work-dir>/export/``: ``backbone.pth``,
        ``timm_beitv2.safetensors``, ``hf/`` and, last (it marks the stage
        done), ``export.json``.
        """
        from mmbeitv2.checkpoint.export import export_backbone
        out = osp.join(self.work_dir, 'export')
        # our own checkpoint, written by the pretrain stage: trusted
        info = export_backbone(self.ckpt('pretrain'), out, trusted=True)
        for key in ('mmbeitv2', 'timm', 'hf'):
            self.log(f'export: {key} -> {info[key]}')
        with open(osp.join(out, 'export.json'), 'w') as f:
            json.dump(info, f, indent=1)

    def make_report(self) -> Dict:
        """``report.md`` and its PNGs (:mod:`.own_data_report`)."""
        from .own_data_report import make_report
        return make_report(self)
