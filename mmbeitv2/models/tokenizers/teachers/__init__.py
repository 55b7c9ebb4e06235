# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .base_teacher import BaseTeacher
from .clip_teacher import CLIPTeacher
from .efficientnet_lite_teacher import EfficientNetLite0Teacher
from .timm_vit_teacher import TimmViTTeacher

__all__ = [
    'BaseTeacher', 'CLIPTeacher', 'TimmViTTeacher', 'EfficientNetLite0Teacher'
]
