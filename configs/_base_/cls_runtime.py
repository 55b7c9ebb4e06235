# Runtime of the classification configs (fine-tuning, linear probing):
# mmpretrain's default runtime in the mmbeitv2 scope, seed 0.
_base_ = 'mmpretrain::_base_/default_runtime.py'

default_scope = 'mmbeitv2'
# mmbeitv2's registries are children of mmpretrain's; a child lookup does
# not import the parent's modules, so import them here (tools/train.py or
# not).
custom_imports = dict(
    imports=[
        'mmpretrain.datasets', 'mmpretrain.engine', 'mmpretrain.evaluation',
        'mmpretrain.models', 'mmpretrain.visualization', 'mmbeitv2.models',
        'mmbeitv2.evaluation'
    ],
    allow_failed_imports=False)
randomness = dict(seed=0)
