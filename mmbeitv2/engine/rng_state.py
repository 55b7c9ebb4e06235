# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The global random number generator states of one process, as plain
tensors and numbers, so that they pass ``weights_only=True`` loading."""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_world_size


def get_rng_state() -> dict:
    """The states of torch (CPU and, once initialised, CUDA), numpy's legacy
    global generator and python ``random``.

    Returns:
        dict: ``torch``, ``numpy``, ``python`` and, where CUDA was used,
        ``cuda`` (one state per device).
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    assert kind == 'MT19937', kind
    version, internal, gauss_next = random.getstate()
    state = dict(
        torch=torch.get_rng_state(),
        # uint32 keys in int64: every dtype loads with weights_only=True
        numpy=dict(
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            gauss=float(gauss)),
        python=dict(
            version=version, internal=list(internal),
            gauss_next=gauss_next))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`get_rng_state` returned.

    Args:
        state (dict): The states. A ``cuda`` entry is restored only where
            as many CUDA devices are visible as when it was taken.
    """
    torch.set_rng_state(state['torch'].cpu())
    np_state = state['numpy']
    np.random.set_state(
        ('MT19937', np_state['keys'].cpu().numpy().astype(np.uint32),
         np_state['pos'], np_state['has_gauss'], np_state['gauss']))
    py_state = state['python']
    random.setstate((py_state['version'], tuple(py_state['internal']),
                     py_state['gauss_next']))
    cuda = state.get('cuda')
    if (cuda is not None and torch.cuda.is_available()
            and len(cuda) == torch.cuda.device_count()):
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


def gather_rng_states() -> list:
    """Every rank's states (:func:`get_rng_state`), in rank order. A
    collective: every rank must call it.

    Returns:
        list[dict]: One state per rank.
    """
    state = get_rng_state()
    return all_gather_object(state) if get_world_size() > 1 else [state]
