# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Launch arguments and the config edits ``tools/*.py`` make before the
runner is built (launcher, work dir, ``--cfg-options``, default
dataloaders, checkpoint trust)."""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from mmbeitv2.errors import UserInputError


def add_launch_args(parser) -> None:
    """The arguments ``tools/train.py`` and ``tools/test.py`` share:
    ``--cfg-options``, ``--launcher`` and ``--local_rank``."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torchrun passes LOCAL_RANK in the environment; the old launcher passed
    # `--local-rank` (torch >= 2.0) or `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def converter_parser(doc: str,
                     src_help: str,
                     dst_help: str,
                     src: str = 'src',
                     dst: str = 'dst') -> argparse.ArgumentParser:
    """The parser every ``tools/model_converters/*.py SRC DST`` starts
    from: the tool's description and its two positional paths.

    Args:
        doc (str): The tool's module docstring; its first line is the
            description.
        src_help (str): What SRC is.
        dst_help (str): What DST is.
        src (str): The name of SRC. Defaults to 'src'.
        dst (str): The name of DST. Defaults to 'dst'.

    Returns:
        argparse.ArgumentParser: The parser, for the tool's own options.
    """
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument(src, help=src_help)
    parser.add_argument(dst, help=dst_help)
    return parser


def parse_launch_args(parser, argv):
    """Parse ``argv`` and export ``LOCAL_RANK`` as torchrun would."""
    import os
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def set_default_dataloaders(cfg: Config,
                            pin_memory: bool = True,
                            persistent_workers: bool = True) -> None:
    """Fill the dataloader defaults mmpretrain's tools set (default_collate,
    pin_memory, persistent_workers) into the train/val/test dataloaders.

    Shared by ``tools/train.py`` and ``tools/test.py`` so that a config
    evaluates the same way in both (without ``default_collate`` a batch
    would arrive as a list of single images).
    """
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(field, None) is None:
            continue
        loader = dict(
            pin_memory=True,
            persistent_workers=True,
            collate_fn=dict(type='default_collate'))
        loader.update(cfg[field])
        if not pin_memory:
            loader['pin_memory'] = False
        if not persistent_workers or not loader.get('num_workers'):
            # persistent_workers needs num_workers > 0 (torch raises).
            loader['persistent_workers'] = False
        cfg[field] = loader


def set_launcher_and_work_dir(cfg: Config, args) -> None:
    """Put ``--launcher`` and ``--work-dir`` into ``cfg``, as mmpretrain's
    ``tools/train.py`` and ``tools/test.py`` do.

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): The tool's arguments, with ``config``,
            ``launcher`` and ``work_dir``.
    """
    cfg.launcher = args.launcher
    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])


def apply_cfg_options(cfg: Config, cfg_options: Optional[dict],
                      **loader_defaults) -> Config:
    """Merge ``--cfg-options``, then fill the dataloader defaults
    (:func:`set_default_dataloaders` with ``loader_defaults``): the last
    step of ``tools/train.py`` and ``tools/test.py`` before the runner.

    Args:
        cfg (Config): The config with the tool's other arguments applied.
        cfg_options (dict, optional): The parsed ``--cfg-options``.

    Returns:
        Config: ``cfg``, changed in place.
    """
    # --cfg-options first, so that the dataloader defaults see the final
    # values (e.g. num_workers=0 turns persistent_workers off).
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    set_default_dataloaders(cfg, **loader_defaults)
    return cfg


def load_config(path: str) -> Config:
    """``Config.fromfile`` with a one-line error for a missing file.

    Args:
        path (str): The config file.

    Returns:
        Config: The parsed config.
    """
    if not osp.isfile(path):
        raise UserInputError(
            f'config file not found: {path}; pass the path of a .py config '
            '(e.g. one under configs/), relative to the current directory')
    return Config.fromfile(path)


def prepare_run(config: str, trusted: Sequence[str] = ()) -> Config:
    """What every tool does before it builds a runner: install the runtime
    patches (:mod:`mmbeitv2.compat`), trust the given checkpoint files,
    register mmbeitv2's modules and load the config.

    Args:
        config (str): The config path.
        trusted (Sequence[str]): Checkpoint files to unpickle fully.
            Defaults to ().

    Returns:
        Config: The loaded config.
    """
    from mmbeitv2.compat import install_runtime_patches
    from mmbeitv2.utils import register_all_modules
    from mmbeitv2.checkpoint.trust import trust_checkpoint
    install_runtime_patches()
    for path in trusted:
        trust_checkpoint(path)
    register_all_modules(init_default_scope=False)
    return load_config(config)
