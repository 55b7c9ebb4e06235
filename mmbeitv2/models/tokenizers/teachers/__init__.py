# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .base_teacher import BaseTeacher
from .builder import build_teacher
from .cached_teacher import CachedTeacher
from .centered_teacher import CenteredTeacher
from .clip_teacher import CLIPTeacher
from .efficientnet_lite_teacher import EfficientNetLite0Teacher
from .frozen_teacher import FrozenTeacher
from .timm_vit_teacher import TimmViTTeacher

__all__ = [
    'FrozenTeacher', 'BaseTeacher', 'CachedTeacher', 'CenteredTeacher',
    'CLIPTeacher', 'TimmViTTeacher', 'EfficientNetLite0Teacher',
    'build_teacher'
]
