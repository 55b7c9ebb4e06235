# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .beitv2_vit import BEiTv2ViT

__all__ = ['BEiTv2ViT']
