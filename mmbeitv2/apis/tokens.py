# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""VQ-KD code ids of images, preprocessed as the official
``test_get_code.py`` of microsoft/unilm ``beit2`` does: RGB,
Resize(round(S * 256 / 224), bicubic, shorter edge) -> CenterCrop(S) ->
[0, 1], S the tokenizer's input size."""
import os.path as osp
from typing import List, Sequence, Union

import torch

ImageLike = Union[str, 'PIL.Image.Image', torch.Tensor]  # noqa: F821


def load_tokenizer(config, checkpoint: str, trusted: bool = False):
    """A ``VQKDTokenizer`` from ``config`` without its teacher (no download,
    tokens only), strictly loaded from ``checkpoint``.

    Args:
        config (str | Config): A VQ-KD config.
        checkpoint (str): Its weights (mmbeitv2 or converted official).
        trusted (bool): Full unpickling of the checkpoint. Defaults to
            False.

    Returns:
        VQKDTokenizer: In eval mode.
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmbeitv2.models.tokenizers import load_tokenizer_checkpoint
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model_cfg = cfg.model
    model_cfg.teacher = None  # tokens only: never build/download a teacher
    model_cfg.pop('init_cfg', None)
    model_cfg.pop('data_preprocessor', None)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(model_cfg)
    load_tokenizer_checkpoint(model, checkpoint, trusted=trusted)
    return model.eval()


def tokenizer_transform(size: int):
    """The official preprocessing (module docstring) to (3, S, S) in
    [0, 1]."""
    from torchvision import transforms
    return transforms.Compose([
        transforms.Resize(
            round(size * 256 / 224),
            interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
    ])


def load_image(image, size: int) -> torch.Tensor:
    """A path or PIL image -> (3, S, S) float in [0, 1].

    Raises:
        UserInputError: ``image`` is a path that does not exist or a file
            PIL cannot read as an image (one line naming it).
    """
    from PIL import Image, UnidentifiedImageError

    from mmbeitv2.errors import UserInputError
    tf = tokenizer_transform(size)
    if not isinstance(image, str):
        return tf(image.convert('RGB'))
    if not osp.isfile(image):
        raise UserInputError(
            f'image file not found: {image}; pass paths of existing image '
            'files (JPEG, PNG, ...)')
    try:
        with Image.open(image) as img:
            return tf(img.convert('RGB'))
    except UnidentifiedImageError as exc:
        # PIL names no format: the file is not one of the image formats it
        # reads (e.g. a checkpoint or a text file passed by mistake).
        raise UserInputError(
            f'{image} is not an image file PIL can read '
            f'({osp.getsize(image)} bytes); pass image files (JPEG, PNG, '
            '...)') from exc


def tokenizer_input_size(tokenizer) -> int:
    """S: the encoder's patch grid times its patch size."""
    enc = tokenizer.encoder
    return enc.patch_resolution[0] * enc.patch_embed.projection.stride[0]


@torch.no_grad()
def get_tokens(tokenizer,
               images: Union[ImageLike, Sequence[ImageLike]],
               batch_size: int = 64) -> torch.Tensor:
    """Code ids of images.

    Args:
        tokenizer (VQKDTokenizer): e.g. from :func:`load_tokenizer`.
        images: Paths, PIL images, or tensors already preprocessed to
            (3, S, S) / (B, 3, S, S) in [0, 1].
        batch_size (int): Images per forward. Defaults to 64.

    Returns:
        torch.Tensor: (N, H*W) long ids, raster order.
    """
    if isinstance(images, torch.Tensor):
        batch = images[None] if images.dim() == 3 else images
        return torch.cat([
            tokenizer.get_tokens(batch[i:i + batch_size])
            for i in range(0, len(batch), batch_size)
        ])
    if not isinstance(images, (list, tuple)):
        images = [images]
    size = tokenizer_input_size(tokenizer)
    out: List[torch.Tensor] = []
    for i in range(0, len(images), batch_size):
        chunk = [
            x if isinstance(x, torch.Tensor) else load_image(x, size)
            for x in images[i:i + batch_size]
        ]
        out.append(tokenizer.get_tokens(torch.stack(chunk)))
    return torch.cat(out)
