# cls_runtime.py for the short iteration-based CPU runs: a log line every
# 20 iterations, one checkpoint at the end (a config sets
# checkpoint.interval to its length), the gloo backend.
_base_ = './cls_runtime.py'

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(
        _delete_=True,
        type='CheckpointHook',
        by_epoch=False,
        max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
