# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .transforms import *  # noqa: F401,F403
