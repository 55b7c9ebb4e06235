# Student-length curve (docs/ablations.md): the demo student with 4x its
# iterations (4,000 x 32), the same 60 warmup iterations and cosine to
# 1e-5; paired with mae_demo_4x.py at the same budget.
_base_ = ['../beitv2_demo_cifar10-subset.py']

max_iters = 4000
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
