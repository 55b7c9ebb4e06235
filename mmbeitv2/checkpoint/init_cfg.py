# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The one test of "weights come from a checkpoint" for ``init_weights``."""
from typing import Optional


def loads_pretrained(init_cfg: Optional[dict]) -> bool:
    """True when ``init_cfg`` loads a checkpoint (``type='Pretrained'``), so
    a module's own initialisation must not overwrite what was loaded.

    Args:
        init_cfg (dict | list[dict], optional): A module's ``init_cfg``.

    Returns:
        bool: Whether one entry is ``Pretrained``.
    """
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)
