# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .beitv2 import BEiTv2

__all__ = ['BEiTv2']
