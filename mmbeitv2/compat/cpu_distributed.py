# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Patch: distributed runs without CUDA (``torchrun`` + gloo on CPU).

Upstream: mmengine 0.10.7. Its ``pytorch`` launcher calls
``torch.cuda.set_device`` whatever the backend (``mmengine.dist.utils.
_init_dist_pytorch``), and ``Runner.wrap_model`` always passes
``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU module. So
``tools/dist_train.sh`` cannot run on a CPU-only machine (tests, CI).

Fix: start the gloo group ourselves before the Runner (which then skips its
own initialisation), and wrap CPU models with ``device_ids=None``.

Remove when: mmengine initialises gloo and wraps CPU modules without CUDA
(``tests/test_compat`` checks both upstream code paths still need it).
"""
import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.model import MMDistributedDataParallel


def init_cpu_distributed(cfg: Config) -> None:
    """Start a gloo process group for ``--launcher pytorch`` without CUDA,
    from torchrun's RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT.

    Args:
        cfg (Config): The config; only ``launcher`` is read.
    """
    if (cfg.get('launcher', 'none') != 'pytorch'
            or torch.cuda.is_available() or dist.is_initialized()):
        return
    dist.init_process_group(backend='gloo')


def wrap_cpu_ddp(model: nn.Module,
                 find_unused_parameters: bool = False) -> nn.Module:
    """DDP of a CPU module (``device_ids=None``), as mmengine would wrap it
    on GPUs (``broadcast_buffers=False``)."""
    return MMDistributedDataParallel(
        module=model.to(get_device()),
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=find_unused_parameters)
