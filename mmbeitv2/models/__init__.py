# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Importing this package registers every mmbeitv2 model in the
``mmbeitv2`` scope."""
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .tokenizers import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
