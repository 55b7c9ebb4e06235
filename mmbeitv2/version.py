# Copyright (c) mmbeitv2 contributors. All rights reserved.
__version__ = '0.1.0'
