# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Patch: recognising upstream error texts for bad data and configs.

Upstream: mmpretrain 1.2.0 (``CustomDataset`` raises ``RuntimeError('Found
0 files in subfolders of: ...')`` and asserts ``The number of subfolders
(N) doesn't match ...``), mmcv 2.1.0 (``LoadImageFromFile`` asserts
``failed to load image: FILE``; OpenCV raises ``cv2.error ... !buf.empty()``
on a 0-byte file), mmengine 0.10.7 (``Registry.build`` raises
``KeyError('X is not in the SCOPE::NAME registry...')``; a parameter
scheduler raises ``ValueError('end should be larger than begin, ...')``,
e.g. when an epoch-based warmup is converted to iterations on a short
epoch and rounds to nothing; ``_load_checkpoint_with_prefix`` asserts
``PREFIX is not in the pretrained model`` when ``init_cfg`` names a
checkpoint without ``PREFIX`` keys), torch 2.x (``Optimizer.load_state_dict``
raises ``ValueError('loaded state dict has a different number of parameter
groups')``, e.g. ``--resume`` with a checkpoint of another model). None of
them raises a typed exception for these user errors, so the tools match
their messages to print one actionable line (``mmbeitv2.cli``).

Remove when: upstream raises typed errors; until then, ``tests/test_compat``
produces each message with the pinned versions and checks the pattern
still matches (it fails when a message changes).
"""
import re

# Matched anywhere in the text: a DataLoader worker prefixes its traceback.
NO_IMAGES = re.compile(r"Found 0 files in subfolders of: \{'img_path': "
                       r"'(?P<folder>[^']*)'\}")
BAD_IMAGE = re.compile(r'failed to load image: (?P<file>\S+)')
# mmpretrain's CustomDataset when the class folders are not the class list
# (e.g. ImageNet pointed at one's own images).
CLASS_COUNT = re.compile(
    r"The number of subfolders \((?P<found>\d+)\) doesn't match the number "
    r'of specified classes \((?P<want>\d+)\)')
# OpenCV decoding a 0-byte file (mmcv's LoadImageFromFile, cv2 backend).
EMPTY_BUFFER = re.compile(r'!buf\.empty\(\)')
UNKNOWN_TYPE = re.compile(
    r'^(?P<type>\S+) is not in the (?:(?P<scope>[\w.]+)::)?(?P<name>[\w ]+) '
    r'registry')
# mmengine's _ParamScheduler when begin >= end, e.g. after
# build_iter_from_epoch rounded an epoch-based span to 0 iterations.
EMPTY_SCHEDULE = re.compile(
    r'end should be larger than begin, but got begin=(?P<begin>-?\d+), '
    r'end=(?P<end>-?\d+)')
# mmengine's _load_checkpoint_with_prefix (init_cfg=dict(type='Pretrained',
# prefix=...)) when no key of the file starts with the prefix.
NO_PREFIX = re.compile(r'^(?P<prefix>\S*) is not in the pretrained model$')
# torch's Optimizer.load_state_dict, reached from mmengine's Runner.resume.
PARAM_GROUPS = re.compile(
    r'^loaded state dict has a different number of parameter groups$')
