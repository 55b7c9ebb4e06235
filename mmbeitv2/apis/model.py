# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Build an mmbeitv2 model from a config (path, ``Config`` or the name of
one of the project's configs) and load its weights; register the
project's configs as a model index of mmpretrain's ``ModelHub``."""
import os.path as osp
import tempfile
from typing import List, Optional, Union

from mmengine.config import Config

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
MODEL_INDEX = osp.join(REPO_ROOT, 'model-index.yml')
_registered: List[str] = []


def _find_config(name: str) -> str:
    """A registered config name -> its file."""
    register_model_index()
    from mmpretrain.apis import ModelHub
    if name.lower() in _registered:
        return ModelHub._models_dict[name.lower()].filepath_of_config
    raise FileNotFoundError(
        f'config {name} not found: pass a config file or one of the names '
        'of mmbeitv2.apis.list_models()')


def get_model(config: Union[str, Config],
              checkpoint: Optional[str] = None,
              device: str = 'cpu',
              cfg_options: Optional[dict] = None):
    """An mmbeitv2 (or mmpretrain) model in eval mode.

    Args:
        config (str | Config): A config file, a ``Config``, or a config name
            (``list_models()``).
        checkpoint (str, optional): Weights, loaded with
            ``weights_only=True`` (mmbeitv2's allow-list). A VQ-KD config
            is built without its teacher and loaded strictly. Defaults to
            None (no weights are loaded and ``init_cfg`` is not applied).
        device (str): Defaults to ``'cpu'``.
        cfg_options (dict, optional): Merged into the config first.

    Returns:
        BaseModel: The model, with ``cfg`` (its config) and
        ``dataset_meta`` (the checkpoint's, e.g. class names) attached.
    """
    from mmbeitv2.compat import install_checkpoint_safety
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if isinstance(config, str):
        path = config if osp.isfile(config) else _find_config(config)
        config = Config.fromfile(path)
    cfg = config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.model.get('type') == 'VQKDTokenizer':
        from .tokens import load_tokenizer
        if checkpoint is None:
            raise ValueError('a VQ-KD tokenizer needs its checkpoint')
        model = load_tokenizer(cfg, checkpoint)
        model.cfg, model.dataset_meta = cfg, {}
        return model.to(device)
    from mmengine.registry import DefaultScope
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(model_cfg)
    dataset_meta = {}
    if checkpoint is not None:
        from mmengine.runner import load_checkpoint
        install_checkpoint_safety()
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        dataset_meta = ckpt.get('meta', {}).get('dataset_meta') or {}
    model.cfg = cfg
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def list_models() -> List[str]:
    """Names of the project's configs in the model index."""
    register_model_index()
    return list(_registered)


def _scoped_wrapper(config_path: str, folder: str) -> str:
    """A config that inherits ``config_path`` and builds its model in the
    ``mmbeitv2`` scope, so that mmpretrain's ``get_model`` (which builds in
    the ``mmpretrain`` scope) finds mmbeitv2's types."""
    name = osp.basename(config_path)
    wrapper = osp.join(folder, name)
    with open(wrapper, 'w') as f:
        f.write(f'_base_ = [{config_path!r}]\n'
                "model = dict(_scope_='mmbeitv2')\n")
    return wrapper


def register_model_index(model_index: str = MODEL_INDEX) -> List[str]:
    """Register the project's configs (``model-index.yml`` and the
    ``metafile.yml`` files it imports) with mmpretrain's ``ModelHub``, so
    that ``mmpretrain.get_model('<config name>', pretrained=PATH)`` builds
    them. Idempotent.

    mmpretrain builds models in its own scope; each registered config is a
    small generated wrapper (a temporary folder) that inherits ours and
    sets ``model._scope_='mmbeitv2'``. Checkpoint loading goes through
    mmbeitv2's ``weights_only=True`` loader.

    Args:
        model_index (str): The index file. Defaults to the repository's
            ``model-index.yml``.

    Returns:
        list[str]: The registered names (lower case).
    """
    if _registered:
        return list(_registered)
    from mmpretrain.apis import ModelHub

    from mmbeitv2.compat import install_checkpoint_safety
    from mmbeitv2.utils import register_all_modules
    if not osp.isfile(model_index):
        raise FileNotFoundError(
            f'model index {model_index} not found (an installed copy '
            'without the repository configs?)')
    register_all_modules(init_default_scope=False)
    install_checkpoint_safety()
    before = set(ModelHub._models_dict)
    ModelHub.register_model_index(model_index, config_prefix=REPO_ROOT)
    folder = tempfile.mkdtemp(prefix='mmbeitv2_model_index_')
    for name in sorted(set(ModelHub._models_dict) - before):
        meta = ModelHub._models_dict[name]
        meta.filepath_of_config = meta.config
        meta.config = _scoped_wrapper(meta.config, folder)
        _registered.append(name)
    return list(_registered)
