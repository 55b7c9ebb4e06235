# Student-length curve (docs/ablations.md): the demo's MAE baseline with
# 2x its iterations (2,000 x 32), the same schedule shape as
# beitv2_demo_2x.py; MAE's own recipe otherwise.
_base_ = ['../mae_demo_cifar10-subset.py']

max_iters = 2000
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
