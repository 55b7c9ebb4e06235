# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .beitv2_vit import BEiTv2ViT
from .teacher_backbone import TeacherBackbone

__all__ = ['BEiTv2ViT', 'TeacherBackbone']
