# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Deterministic faults for ``tools/train.py`` runs: a signal sent to the
training process, or NaN weights, during a chosen iteration. The hooks live
in the test's tmp dir (module ``fault_hooks``), not in the package."""
import os.path as osp
import textwrap

FAULT_HOOKS = textwrap.dedent('''
    import os
    import signal as signal_module

    import torch
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS


    def _running(runner):
        # before_train_iter: runner.iter iterations are done.
        return runner.iter + 1


    @HOOKS.register_module()
    class SignalAtIterHook(Hook):
        """Send ``signal`` to this process as iteration ``iteration``
        starts (what Slurm does before a job's time limit)."""
        priority = 'HIGHEST'

        def __init__(self, iteration, signal='SIGUSR1'):
            self.iteration = iteration
            self.signum = getattr(signal_module, signal)

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if _running(runner) == self.iteration:
                os.kill(os.getpid(), self.signum)


    @HOOKS.register_module()
    class NanWeightsAtIterHook(Hook):
        """Set one weight to NaN as each of ``iterations`` starts, so that
        its loss is NaN (a diverged step)."""
        priority = 'HIGHEST'

        def __init__(self, iterations=()):
            self.iterations = set(iterations)

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if _running(runner) in self.iterations:
                with torch.no_grad():
                    next(runner.model.parameters()).view(-1)[0] = float(
                        'nan')

''')


def write_fault_hooks(tmp_dir: str) -> str:
    """Write the ``fault_hooks`` module into ``tmp_dir``; returns the
    ``custom_imports`` entry that loads it."""
    with open(osp.join(tmp_dir, 'fault_hooks.py'), 'w') as f:
        f.write(FAULT_HOOKS)
    return 'fault_hooks'


def write_derived_config(tmp_dir: str, name: str, base: str,
                         body: str) -> str:
    """A config ``name`` in ``tmp_dir`` that inherits ``base`` and loads
    the fault hooks and the sleep hook."""
    path = osp.join(tmp_dir, name)
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                "custom_imports = dict(imports=['sleep_hook', "
                "'fault_hooks'], allow_failed_imports=False)\n" +
                textwrap.dedent(body))
    return path
