# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Registries of mmbeitv2: children of mmpretrain's, scope ``mmbeitv2``.

A config with ``default_scope = 'mmbeitv2'`` looks a ``type`` up here first,
then in mmpretrain's registries, then in mmengine's, so one config reaches all
three codebases. Names registered here may shadow mmpretrain's (e.g.
``MIMHead``); the classes that do so say how they differ in their docstrings.
"""
from mmengine.registry import Registry
from mmpretrain.registry import BATCH_AUGMENTS as PRETRAIN_BATCH_AUGMENTS
from mmpretrain.registry import DATA_SAMPLERS as PRETRAIN_DATA_SAMPLERS
from mmpretrain.registry import DATASETS as PRETRAIN_DATASETS
from mmpretrain.registry import EVALUATORS as PRETRAIN_EVALUATORS
from mmpretrain.registry import HOOKS as PRETRAIN_HOOKS
from mmpretrain.registry import LOG_PROCESSORS as PRETRAIN_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as PRETRAIN_LOOPS
from mmpretrain.registry import METRICS as PRETRAIN_METRICS
from mmpretrain.registry import MODEL_WRAPPERS as PRETRAIN_MODEL_WRAPPERS
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmpretrain.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as PRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.registry import OPTIM_WRAPPERS as PRETRAIN_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as PRETRAIN_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as PRETRAIN_PARAM_SCHEDULERS
from mmpretrain.registry import RUNNERS as PRETRAIN_RUNNERS
from mmpretrain.registry import TASK_UTILS as PRETRAIN_TASK_UTILS
from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as PRETRAIN_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as PRETRAIN_VISUALIZERS
from mmpretrain.registry import WEIGHT_INITIALIZERS as \
    PRETRAIN_WEIGHT_INITIALIZERS

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'METRICS', 'EVALUATORS', 'VISUALIZERS',
    'VISBACKENDS', 'BATCH_AUGMENTS', 'TASK_UTILS'
]


def _child(name: str, parent: Registry, locations: list) -> Registry:
    return Registry(
        name, parent=parent, scope='mmbeitv2', locations=locations)


RUNNERS = _child('runner', PRETRAIN_RUNNERS, ['mmbeitv2.engine'])
LOOPS = _child('loop', PRETRAIN_LOOPS, ['mmbeitv2.engine'])
HOOKS = _child('hook', PRETRAIN_HOOKS, ['mmbeitv2.engine'])
LOG_PROCESSORS = _child('log processor', PRETRAIN_LOG_PROCESSORS,
                        ['mmbeitv2.engine'])
OPTIMIZERS = _child('optimizer', PRETRAIN_OPTIMIZERS, ['mmbeitv2.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', PRETRAIN_OPTIM_WRAPPERS,
                        ['mmbeitv2.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    PRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['mmbeitv2.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', PRETRAIN_PARAM_SCHEDULERS,
                          ['mmbeitv2.engine'])
DATASETS = _child('dataset', PRETRAIN_DATASETS, ['mmbeitv2.datasets'])
DATA_SAMPLERS = _child('data sampler', PRETRAIN_DATA_SAMPLERS,
                       ['mmbeitv2.datasets'])
TRANSFORMS = _child('transform', PRETRAIN_TRANSFORMS, ['mmbeitv2.datasets'])
MODELS = _child('model', PRETRAIN_MODELS, ['mmbeitv2.models'])
MODEL_WRAPPERS = _child('model_wrapper', PRETRAIN_MODEL_WRAPPERS,
                        ['mmbeitv2.models'])
WEIGHT_INITIALIZERS = _child('weight initializer',
                             PRETRAIN_WEIGHT_INITIALIZERS, ['mmbeitv2.models'])
METRICS = _child('metric', PRETRAIN_METRICS, ['mmbeitv2.evaluation'])
EVALUATORS = _child('evaluator', PRETRAIN_EVALUATORS, ['mmbeitv2.evaluation'])
# mmbeitv2 registers no visualizer or vis backend of its own: lookups fall
# through to mmpretrain's.
VISUALIZERS = _child('visualizer', PRETRAIN_VISUALIZERS, [])
VISBACKENDS = _child('vis_backend', PRETRAIN_VISBACKENDS, [])
BATCH_AUGMENTS = _child('batch augment', PRETRAIN_BATCH_AUGMENTS,
                        ['mmbeitv2.models'])
TASK_UTILS = _child('task util', PRETRAIN_TASK_UTILS, ['mmbeitv2.models'])
