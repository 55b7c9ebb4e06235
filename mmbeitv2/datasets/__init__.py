# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .image_folder import ImageFolder  # noqa: F401
from .imagenet_variant import ImageNetVariant  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .unlabeled_image_folder import UnlabeledImageFolder  # noqa: F401
