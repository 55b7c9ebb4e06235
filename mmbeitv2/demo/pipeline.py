# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The stage chain of ``tools/run_demo.py``: each stage a ``tools/train.py``
/ ``tools/test.py`` / ``tools/analysis_tools/feature_probe.py`` subprocess
of the checkout, pointed at the previous stage's output.

A stage is done when its final checkpoint / output exists: re-running
reuses finished stages, resumes an interrupted one from its last checkpoint,
and ``--force`` reruns the named stages and every stage after them. The
stages, their configs and the smoke-run options are in
:mod:`mmbeitv2.demo.presets`; the table and pictures at the end in
:mod:`mmbeitv2.demo.report`. See docs/demo.md.
"""
import argparse
import functools
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List

from . import report
from .presets import DATA_SIZES, PRESETS, PROBES, STAGES

# The checkout this package is imported from (an editable install): the
# stages run its tools/ and configs/, which are not installed.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Pipeline:
    """Builds and runs the stage commands of one preset.

    The chain itself (reuse a finished stage, resume an interrupted one,
    ``--force`` / ``--stages``, logs, timings, the report at the end) is
    :meth:`run` and :meth:`execute`; what a stage runs is
    :meth:`stage_plan`. ``OwnDataPipeline`` (``tools/pretrain_own_data.py``)
    subclasses it with other stages on the same chain.

    A plan is a dict: ``cmd`` (a tool of the checkout and its arguments),
    ``launcher`` (``'python'``, the default, or ``'bash'`` for the
    ``tools/dist_*.sh`` scripts), ``done`` (the file that marks the stage
    finished) and ``dir`` (its work dir); or ``call`` (a function run in
    this process, for stages that are no tool) instead of ``cmd``.

    Args:
        args (argparse.Namespace): The options of ``tools/run_demo.py``.
        root (str): The checkout whose tools and configs the stages run.
            Defaults to the one this package is imported from.
    """
    log_name = 'run_demo'  # the prefix of the progress lines

    def __init__(self, args: argparse.Namespace,
                 root: str = REPO_ROOT) -> None:
        self.args = args
        self.root = root
        self.preset = dict(PRESETS[args.preset])
        for item in args.config:  # --config STAGE=PATH replaces a config
            stage, _, path = item.partition('=')
            if stage not in STAGES or not path:
                raise SystemExit(f'--config {item!r}: use STAGE=PATH with '
                                 f'STAGE one of {", ".join(STAGES)}')
            if not osp.isfile(osp.join(self.root, path)):
                raise SystemExit(f'--config {item!r}: {path} not found '
                                 '(a path relative to the repository)')
            self.preset[stage] = path
        work_dir = osp.abspath(args.work_dir or self.preset['work_dir'])
        # what to make when no --data is given: 'embedded', 'shapes10'
        self.make_data = None if args.data else self.preset['data']
        if self.make_data == 'embedded':
            default_data = osp.join(work_dir, 'data', 'cifar10_subset')
        elif self.make_data == 'shapes10':
            default_data = osp.join(work_dir, 'data')
        else:
            default_data = self.preset['data']
        self.data = osp.abspath(args.data or default_data)
        stages = [s for s in STAGES
                  if self.preset.get(s, 'always') is not None]
        if args.no_mae:
            stages = [s for s in stages if s not in ('mae', 'probe_mae')]
        self.init_chain(work_dir, stages)

    def init_chain(self, work_dir: str, stages: List[str]) -> None:
        """The state of the chain: its work dir, stages and timings (those
        of earlier runs in the same work dir are kept)."""
        self.work_dir = work_dir
        self.stages = stages
        self.timings_file = osp.join(work_dir, 'timings.json')
        self.timings = _read_json(self.timings_file, {})
        self.cpu_times: Dict[str, float] = {}

    # ---------------------------------------------------------------- data
    def prepare_data(self) -> None:
        t0 = time.time()
        if self.make_data == 'embedded':
            from mmbeitv2.datasets.demo.embedded_data import \
                extract_cifar10_subset
            extract_cifar10_subset(osp.dirname(self.data))
            self.log(f'data: the embedded CIFAR-10 subset (500 train / 100 '
                     f'test photos per class) in {self.data} '
                     f'({time.time() - t0:.0f} s)')
        elif self.make_data == 'shapes10':
            from mmbeitv2.datasets.demo.shapes10 import write_demo_dataset
            kwargs = dict(DATA_SIZES['shapes10'])
            if self.args.data_size:
                kwargs = dict(num_train_per_class=self.args.data_size[0],
                              num_val_per_class=self.args.data_size[1])
            write_demo_dataset(self.data, **kwargs)
            self.log(f'data: shapes10 in {self.data} '
                     f'({time.time() - t0:.0f} s)')
        elif self.args.preset == 'cifar' and not osp.isdir(
                osp.join(self.data, 'train')):
            from mmbeitv2.datasets.demo.cifar10_folder import \
                cifar10_to_imagefolder
            self.log(cifar10_to_imagefolder(self.data, download=True))
        if not osp.isdir(osp.join(self.data, 'train')):
            raise SystemExit(
                f'{self.data}/train not found: --data must be an ImageFolder '
                'root with train/<class>/* and val/<class>/* (or test/); '
                'see docs/demo.md')
        self.val_split = 'val' if osp.isdir(osp.join(self.data, 'val')) \
            else 'test'
        self.classes = sorted(
            d for d in os.listdir(osp.join(self.data, 'train'))
            if osp.isdir(osp.join(self.data, 'train', d)))

    def data_options(self, with_val: bool) -> List[str]:
        """--cfg-options that point a config at ``self.data``."""
        opts = [f'train_dataloader.dataset.data_root={self.data}']
        if with_val:
            ann = osp.join('meta', f'{self.val_split}.txt')  # ImageNet
            for loader in ('val_dataloader', 'test_dataloader'):
                opts += [f'{loader}.dataset.data_root={self.data}',
                         f'{loader}.dataset.data_prefix={self.val_split}']
                if osp.isfile(osp.join(self.data, ann)):
                    opts.append(f'{loader}.dataset.ann_file={ann}')
        return opts

    # -------------------------------------------------------------- stages
    def final_checkpoint(self, config: str, stage_dir: str,
                         opts: List[str]) -> str:
        """``epoch_{max_epochs}.pth`` or ``iter_{max_iters}.pth`` of a
        config after ``opts`` (``--cfg-options``)."""
        train_cfg = dict(_train_cfg(osp.join(self.root, config)))
        for opt in opts:
            key, _, value = opt.partition('=')
            if key in ('train_cfg.max_epochs', 'train_cfg.max_iters'):
                train_cfg[key.split('.')[1]] = int(value)
        if 'max_epochs' in train_cfg:
            return osp.join(stage_dir, f"epoch_{train_cfg['max_epochs']}.pth")
        return osp.join(stage_dir, f"iter_{train_cfg['max_iters']}.pth")

    def stage_plan(self, stage: str) -> Dict:
        """Command, output and done-marker of one stage."""
        p, w = self.preset, self.work_dir
        sdir = osp.join(w, stage)
        extra = self.preset['extra']
        eval_opts = extra.get('eval', [])
        user = self.user_options(stage)
        if stage == 'codebook':
            cfg = p['vqkd']
            out = osp.join(sdir, 'tokens.pkl')
            cmd = ['tools/test.py', cfg, self.ckpt('vqkd'), '--work-dir',
                   sdir, '--out', out, '--cfg-options',
                   *self.data_options(True), *eval_opts, *user]
            return dict(cmd=cmd, done=out, dir=sdir)
        cfg = p[stage]
        pretraining = stage in ('pretrain', 'mae')
        opts = [*self.data_options(not pretraining),
                *extra.get('train', []), *extra.get(stage, [])]
        if stage in PROBES:
            opts += eval_opts
            source = PROBES[stage]
            if stage == 'probe_random':
                opts.append('model.backbone.init_cfg=None')
            elif source is not None:
                opts.append('model.backbone.init_cfg.checkpoint='
                            + self.ckpt(source))
            out = osp.join(sdir, 'probe.json')
            cmd = ['tools/analysis_tools/feature_probe.py', cfg,
                   '--work-dir', sdir, '--cfg-options', *opts, *user]
            return dict(cmd=cmd, done=out, dir=sdir)
        if not pretraining:
            opts += [*extra.get('epochs', []), *eval_opts]
        if stage == 'pretrain':
            opts.append('model.target_generator.init_cfg.checkpoint='
                        + self.ckpt('vqkd'))
        elif stage == 'finetune':
            opts.append('model.backbone.init_cfg.checkpoint='
                        + self.ckpt('pretrain'))
            opts.append(f'model.head.num_classes={len(self.classes)}')
        opts += user
        done = self.final_checkpoint(cfg, sdir, opts)
        cmd = ['tools/train.py', cfg, '--work-dir', sdir,
               *self.train_flags(stage, sdir, done), '--cfg-options', *opts]
        return dict(cmd=cmd, done=done, dir=sdir)

    def train_flags(self, stage: str, stage_dir: str,
                    done: str) -> List[str]:
        """``tools/train.py`` flags of a training stage: ``--resume``
        (:meth:`resumes`) and ``--amp`` (the tool's ``--amp``)."""
        flags = ['--resume'] if self.resumes(stage, stage_dir, done) else []
        return flags + (['--amp'] if self.args.amp else [])

    def resumes(self, stage: str, stage_dir: str, done: str) -> bool:
        """Whether a training stage resumes: an interrupted run (its work
        dir names a ``last_checkpoint``, the final one is missing) does,
        a forced one never."""
        return (stage not in self.forced and not osp.isfile(done)
                and osp.isfile(osp.join(stage_dir, 'last_checkpoint')))

    def user_options(self, stage: str) -> List[str]:
        """``--options`` of this stage; ``probe:`` also applies to
        ``probe_random`` (the two must share one protocol); ``all:`` skips
        val/test keys for ``pretrain`` and ``mae``, which have no val/test
        loop."""
        out = []
        for item in self.args.options:
            name, sep, opt = item.partition(':')
            if not sep or name not in (*STAGES, 'all'):
                raise SystemExit(f'--options {item!r}: use STAGE:KEY=VALUE '
                                 f'with STAGE in {", ".join(STAGES)}, all')
            if name == 'all' and stage in ('pretrain', 'mae') and \
                    opt.startswith(('val_', 'test_')):
                continue  # pretraining has no val/test loop
            if name in ('all', stage) or \
                    (name, stage) == ('probe', 'probe_random'):
                out.append(opt)
        return out

    def ckpt(self, stage: str) -> str:
        return self.stage_plan(stage)['done']

    def is_done(self, stage: str, done: str) -> bool:
        return osp.isfile(done) and stage not in self.forced

    def run(self) -> Dict:
        os.makedirs(self.work_dir, exist_ok=True)
        self.forced = set()
        if self.args.force is not None:
            named = self.args.force or list(self.stages)
            first = min(self.stages.index(s) for s in named)
            # a rerun stage invalidates every stage after it
            self.forced = set(self.stages[first:])
        self.prepare_data()
        selected = [s for s in self.stages
                    if not self.args.stages or s in self.args.stages]
        for i, stage in enumerate(selected, 1):
            plan = self.stage_plan(stage)
            head = f'[{i}/{len(selected)}] {stage}'
            if self.is_done(stage, plan['done']):
                self.log(f'{head}: done before, reused '
                         f'({osp.relpath(plan["done"], self.work_dir)})')
                continue
            self.forced.discard(stage)
            if 'cmd' in plan:
                self.log(f'{head}: {plan.get("launcher", "python")} '
                         f'{" ".join(plan["cmd"])}')
            else:
                self.log(f'{head}: {plan["call"].__doc__.splitlines()[0]}')
            elapsed = self.execute(stage, plan)
            self.timings[stage] = elapsed
            self.timings[f'{stage}_cpu'] = self.cpu_times[stage]
            _write_json(self.timings_file, self.timings)
            self.log(f'{head}: finished in {_fmt_time(elapsed)} '
                     f'({self.cpu_times[stage]:.0f} CPU s)')
        return self.make_report()

    def make_report(self) -> Dict:
        """The table and pictures at the end (:mod:`.report`)."""
        return report.make_report(self)

    def execute(self, stage: str, plan: Dict) -> float:
        """Run one stage; its output goes to the console and a log file."""
        os.makedirs(plan['dir'], exist_ok=True)
        if 'call' in plan:
            return self._call(stage, plan)
        log_file = osp.join(self.work_dir, f'{stage}.log')
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        launcher = plan.get('launcher', 'python')
        argv = [sys.executable if launcher == 'python' else launcher,
                *plan['cmd']]
        t0 = time.time()
        cpu0 = _children_cpu()
        with open(log_file, 'a', buffering=1) as log:  # line-buffered
            proc = subprocess.Popen(
                argv, cwd=self.root, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                log.write(line)
                if not self.args.quiet:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            rc = proc.wait()
        if rc != 0 or not osp.isfile(plan['done']):
            raise SystemExit(
                f'stage {stage} failed (exit code {rc}); its log: '
                f'{log_file}. Re-run the same command to resume.')
        # CPU seconds too: on a shared machine wall time says little.
        self.cpu_times[stage] = _children_cpu() - cpu0
        return time.time() - t0

    def _call(self, stage: str, plan: Dict) -> float:
        """Run an in-process stage (``plan['call']``, no arguments)."""
        t0, cpu0 = time.time(), time.process_time()
        plan['call']()
        if not osp.isfile(plan['done']):
            raise SystemExit(f'stage {stage} wrote no {plan["done"]}')
        self.cpu_times[stage] = time.process_time() - cpu0
        return time.time() - t0

    def log(self, msg: str) -> None:
        print(f'[{self.log_name} {time.strftime("%H:%M:%S")}] {msg}',
              flush=True)


def add_stage_args(parser: argparse.ArgumentParser, stages) -> None:
    """The flags every stage-chain tool shares: which stages run again
    (``--force``), which run at all (``--stages``) and ``--quiet``."""
    parser.add_argument(
        '--force', nargs='*', choices=stages,
        help='rerun these stages and all after them (no name: all)')
    parser.add_argument(
        '--stages', nargs='+', choices=stages,
        help='run only these stages (earlier outputs must exist)')
    parser.add_argument(
        '--quiet', action='store_true',
        help='only one line per stage; the mmengine logs go to '
        '<work-dir>/<stage>.log')


@functools.lru_cache(maxsize=None)
def _train_cfg(config: str) -> Dict:
    """``train_cfg`` of a config (parsing one takes about a second)."""
    from mmengine.config import Config
    return Config.fromfile(config).train_cfg.to_dict()


def _children_cpu() -> float:
    import resource
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _fmt_time(seconds: float) -> str:
    return f'{int(seconds // 60)} min {seconds % 60:04.1f} s'


def _read_json(path: str, default):
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return default


def _write_json(path: str, obj) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)
