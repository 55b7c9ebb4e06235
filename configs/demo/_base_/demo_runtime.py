# Runtime of every demo config: mmpretrain's default runtime, our scope,
# logs every 10 iterations (the runs are short), one kept checkpoint.
_base_ = ['mmpretrain::_base_/default_runtime.py']
default_scope = 'mmbeitv2'
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=False)
log_processor = dict(window_size=10)
