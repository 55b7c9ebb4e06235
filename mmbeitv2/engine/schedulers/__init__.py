# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .layer_decay_cosine_lr import LayerDecayCosineAnnealingLR  # noqa: F401
