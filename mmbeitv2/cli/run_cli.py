# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""One-line error reporting for ``tools/*.py``: :func:`run_cli` runs a
tool's ``main`` and turns a user's error into one line."""
import re
import sys
from typing import Callable, List, Optional

from mmbeitv2.compat.upstream_messages import (BAD_IMAGE, CLASS_COUNT,
                                               EMPTY_BUFFER, EMPTY_SCHEDULE,
                                               NO_IMAGES, NO_PREFIX,
                                               PARAM_GROUPS, UNKNOWN_TYPE)
from mmbeitv2.errors import NonFiniteLossError, UserInputError


def _registry_chain(name: str, scope: Optional[str]) -> List[str]:
    """Scopes a lookup in registry ``name`` starting at ``scope`` visits."""
    import mmengine.registry as mmengine_registry
    root = next((reg for reg in vars(mmengine_registry).values()
                 if isinstance(reg, mmengine_registry.Registry)
                 and reg.name == name and reg.parent is None), None)
    if root is None:
        return [scope] if scope else []
    registry = root._search_child(scope) if scope else root
    chain = []
    while registry is not None:
        chain.append(registry.scope)
        registry = registry.parent
    return chain


def _innermost_local(exc: BaseException, pick: Callable) -> Optional[str]:
    """The innermost non-None ``pick(frame_locals)`` along ``exc``'s
    traceback (None when the error came from a DataLoader worker, whose
    frames are gone)."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        try:
            value = pick(tb.tb_frame.f_locals)
        except Exception:  # noqa: BLE001 - best effort, never fails
            value = None
        found = value if value is not None else found
        tb = tb.tb_next
    return found


def _image_path(frame_locals: dict) -> Optional[str]:
    """The image file a loading transform was reading."""
    results = frame_locals.get('results')
    if isinstance(results, dict) and isinstance(
            results.get('img_path'), str):
        return results['img_path']
    filename = frame_locals.get('filename')
    return filename if isinstance(filename, str) else None


def _dataset_folder(frame_locals: dict) -> Optional[str]:
    """The image folder of the dataset being loaded."""
    prefix = getattr(frame_locals.get('self'), 'img_prefix', None)
    return prefix if isinstance(prefix, str) else None


def _epoch_conversion(frame_locals: dict) -> Optional[tuple]:
    """(scheduler name, iterations per epoch) in mmengine's
    ``build_iter_from_epoch``, which turns epoch bounds into iterations."""
    length, cls = frame_locals.get('epoch_length'), frame_locals.get('cls')
    if isinstance(length, int) and isinstance(cls, type):
        return cls.__name__, length
    return None


def _empty_schedule(exc: BaseException, match) -> str:
    """The line for a scheduler that spans no iteration."""
    span = f'begin={match["begin"]}, end={match["end"]}'
    converted = _innermost_local(exc, _epoch_conversion)
    if converted is None:
        return (f'a param_scheduler spans no iteration ({span}); give it '
                'an end larger than its begin')
    name, length = converted
    return (f'param_scheduler {name} spans no iteration: its epoch bounds '
            f'times {length} iterations per epoch round to {span}; use more '
            'training images per epoch (or a smaller batch), wider '
            'begin/end, or state it in iterations (by_epoch=False, '
            'begin/end in iterations)')


def _resume_frame(frame_locals: dict) -> Optional[dict]:
    """The locals of mmengine's ``Runner.resume(filename, ...)`` once it
    has read the file (``checkpoint``)."""
    runner = frame_locals.get('self')
    if (isinstance(frame_locals.get('filename'), str)
            and isinstance(frame_locals.get('checkpoint'), dict)
            and hasattr(runner, 'optim_wrapper')):
        return frame_locals
    return None


def _prefix_frame(frame_locals: dict) -> Optional[dict]:
    """The locals of mmengine's ``_load_checkpoint_with_prefix(prefix,
    filename)``, which ``init_cfg=dict(type='Pretrained', prefix=...)``
    calls."""
    if (isinstance(frame_locals.get('prefix'), str)
            and isinstance(frame_locals.get('filename'), str)
            and 'checkpoint' in frame_locals):
        return frame_locals
    return None


def _group_count(optimizer_state: object) -> Optional[int]:
    """Parameter groups in an optimizer state dict (one optimizer)."""
    if isinstance(optimizer_state, dict) and isinstance(
            optimizer_state.get('param_groups'), list):
        return len(optimizer_state['param_groups'])
    return None


def _resume_of_another_model(exc: BaseException) -> Optional[str]:
    """The line for ``--resume`` with a checkpoint whose optimizer state
    does not fit (mmengine loads the weights non-strictly, so the
    optimizer is the first thing that fails)."""
    from mmengine.model import is_model_wrapper

    from mmbeitv2.checkpoint.kind import describe_checkpoint, describe_keys
    found = _innermost_local(exc, _resume_frame)
    if found is None:
        return None
    runner, path = found['self'], found['filename']
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    kind = describe_checkpoint(found['checkpoint'])
    want = describe_keys(model.state_dict())
    if kind != want:
        return (f'--resume {path}: it is {kind}, but this config trains '
                f'{type(model).__name__} and resumes only from {want} '
                'written by a run of this config (WORK_DIR/iter_N.pth or '
                'epoch_N.pth); to start from the weights of another model, '
                'use load_from or the model\'s init_cfg.checkpoint instead '
                'of --resume')
    theirs = _group_count(found['checkpoint'].get('optimizer'))
    ours = _group_count(runner.optim_wrapper.state_dict())
    counts = (f' ({theirs} in the file, {ours} here)'
              if theirs is not None and ours is not None else '')
    return (f'--resume {path}: it is {kind} as expected, but its optimizer '
            f'has another number of parameter groups{counts}, e.g. from '
            'another optim_wrapper.paramwise_cfg or layer decay; resume '
            'with the config that wrote it, or load the weights only with '
            'load_from (no --resume)')


def _init_checkpoint_without_prefix(exc: BaseException,
                                    prefix: str) -> str:
    """The line for ``init_cfg=dict(type='Pretrained', prefix=PREFIX)``
    naming a checkpoint that has no ``PREFIX`` keys."""
    from mmbeitv2.checkpoint.kind import describe_checkpoint
    found = _innermost_local(exc, _prefix_frame)
    path = found['filename'] if found else 'the init_cfg checkpoint'
    kind = (f'it is {describe_checkpoint(found["checkpoint"])}'
            if found else 'it has no such keys')
    return (f"init_cfg checkpoint {path} has no '{prefix}' keys: {kind}; "
            f"init_cfg with prefix='{prefix}' expects a checkpoint whose "
            f"model has a {prefix.rstrip('.')} (a BEiT v2 pretraining or "
            'fine-tuned checkpoint of mmbeitv2 / mmpretrain, or an official '
            'BEiT v2 file); for a bare backbone state dict '
            'set init_cfg.prefix=None')


def describe_user_error(exc: BaseException) -> Optional[str]:
    """The one line to print for ``exc``, or None if it is not a user error.

    Args:
        exc (BaseException): The exception that ended the tool.

    Returns:
        str, optional: The message.
    """
    if isinstance(exc, (UserInputError, NonFiniteLossError)):
        # A DataLoader worker re-raises our error with the worker traceback
        # in front of the message; the original line is the last one.
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        last = lines[-1] if lines else type(exc).__name__
        return re.sub(r'^[\w.]+Error: ', '', last)
    text = str(exc)
    if isinstance(exc, RuntimeError) and NO_IMAGES.search(text):
        folder = NO_IMAGES.search(text)['folder']
        return (f'no images found in dataset folder {folder} (class '
                'subfolders <class>/<image>); put images there or point '
                'data_root / data_prefix at the right folder')
    if isinstance(exc, AssertionError) and BAD_IMAGE.search(text):
        filename = BAD_IMAGE.search(text)['file']
        return (f'corrupt image file {filename}; delete or replace it, or '
                'load images with CheckedLoadImageFromFile(skip_corrupt=True)'
                ' to skip and count such files')
    if isinstance(exc, AssertionError) and CLASS_COUNT.search(text):
        match = CLASS_COUNT.search(text)
        folder = _innermost_local(exc, _dataset_folder) or 'the data folder'
        return (f'dataset folder {folder} has {match["found"]} class '
                f'subfolders but the dataset expects {match["want"]} classes'
                ' (ImageNet: the 1000 class folders or a meta/<split>.txt '
                'list); to pretrain (VQ-KD / BEiT v2) on your own unlabelled '
                'images, flat or nested, pass --cfg-options '
                'train_dataloader.dataset.type=UnlabeledImageFolder '
                'train_dataloader.dataset.data_root=DIR (VQ-KD: the same for '
                'val_dataloader, or --no-validate); labelled data: '
                'dataset.type=ImageFolder and the head\'s num_classes')
    if type(exc).__name__ == 'error' and EMPTY_BUFFER.search(text):
        # cv2.error, without importing cv2 here.
        path = _innermost_local(exc, _image_path)
        where = (f'image file {path} is empty (0 bytes)' if path else
                 'an image file of the dataset is empty (0 bytes; find it '
                 'with: find DATA_ROOT -type f -size 0)')
        return (f'{where}; OpenCV cannot decode it: delete or replace it, '
                'or load images with CheckedLoadImageFromFile('
                'skip_corrupt=True) to skip and count such files')
    if isinstance(exc, ValueError) and PARAM_GROUPS.match(text):
        message = _resume_of_another_model(exc)
        if message is not None:
            return message
    if isinstance(exc, AssertionError) and NO_PREFIX.match(text):
        return _init_checkpoint_without_prefix(
            exc, NO_PREFIX.match(text)['prefix'])
    if isinstance(exc, ValueError) and EMPTY_SCHEDULE.search(text):
        return _empty_schedule(exc, EMPTY_SCHEDULE.search(text))
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return (f'file or folder not found: {exc.filename}; check the paths '
                'in the config (data_root, ann_file, load_from) or on the '
                'command line')
    if isinstance(exc, KeyError) and exc.args:
        match = UNKNOWN_TYPE.match(str(exc.args[0]))
        if match:
            chain = _registry_chain(match['name'], match['scope'])
            searched = ' -> '.join(chain) if chain else 'unknown'
            return (f"unknown type '{match['type']}' in the {match['name']} "
                    f'registry (scopes searched: {searched}); check the '
                    'spelling, or import the module that registers it '
                    '(custom_imports / a scope prefix such as mmpretrain.X)')
    return None


def run_cli(main: Callable[[], object]) -> int:
    """Run a tool's ``main``; user errors end in one line on stderr.

    Args:
        main (Callable): The tool's entry function.

    Returns:
        int: The exit status: 0, 2 for a user error, 1 for a non-finite
        loss (other exceptions
        propagate with their traceback).
    """
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - unknown errors are re-raised
        message = describe_user_error(exc)
        if message is None:
            raise
        sys.stderr.write(f'error: {message}\n')
        return 1 if isinstance(exc, NonFiniteLossError) else 2
    return 0
