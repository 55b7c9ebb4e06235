# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Start a gloo process group in spawned workers, with a deadline.

Rendezvous goes through a file in the test's tmp dir (``file://``): no
TCP port is picked in advance, so two tests (or two sessions) running at
once cannot race for the same port; gloo's own connections use ports the
OS hands out. The workers are killed when they run past ``timeout``.
"""
import datetime
import os.path as osp
import time
from typing import Callable

import torch.distributed as dist
import torch.multiprocessing as mp


def init_gloo(rank: int, world: int, store_dir: str,
              timeout_s: float = 60) -> None:
    """``init_process_group('gloo')`` for ``rank`` through a file store."""
    dist.init_process_group(
        'gloo',
        init_method='file://' + osp.join(store_dir, 'gloo_store'),
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=timeout_s))


def spawn(fn: Callable, args: tuple, nprocs: int = 2,
          timeout: float = 180) -> None:
    """``mp.spawn(fn, args, nprocs)`` that fails (and kills the workers)
    after ``timeout`` seconds instead of hanging."""
    context = mp.start_processes(
        fn, args=args, nprocs=nprocs, join=False, start_method='spawn')
    deadline = time.time() + timeout
    try:
        while not context.join(timeout=1):
            if time.time() > deadline:
                raise TimeoutError(
                    f'{nprocs} gloo workers did not finish in {timeout} s')
    finally:
        for proc in context.processes:
            if proc.is_alive():
                proc.kill()
                proc.join(5)
