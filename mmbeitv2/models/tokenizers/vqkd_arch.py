# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The architecture of a trained VQ-KD tokenizer, read from its config."""
import os.path as osp
from typing import Tuple

from mmengine.config import Config
from torch import nn

from mmbeitv2.errors import UserInputError


def arch_from_config(path: str,
                     decoder_out_dims: int) -> Tuple[dict, dict, dict, int]:
    """``encoder``, ``decoder``, ``quantizer`` and ``decoder_out_dims`` of
    the ``model`` of a VQ-KD training config (``configs/vqkd/*.py``).

    Lets a pretraining config swap its frozen tokenizer with one field
    (``model.target_generator.vqkd_config``) next to the checkpoint.

    Args:
        path (str): The VQ-KD config the tokenizer was trained with.
        decoder_out_dims (int): Used when the config does not set it.

    Returns:
        tuple: encoder, decoder, quantizer (dicts) and decoder_out_dims.
    """
    if not osp.isfile(path):
        raise UserInputError(
            f'VQKDTokenizer: vqkd_config {path} not found; give the '
            'configs/vqkd/*.py file the tokenizer was trained with')
    model = Config.fromfile(path).model
    missing = [k for k in ('encoder', 'decoder', 'quantizer')
               if k not in model]
    if missing:
        raise UserInputError(
            f'VQKDTokenizer: vqkd_config {path} has no model.{missing[0]}; '
            'give a VQ-KD training config (configs/vqkd/*.py)')
    return (model.encoder.to_dict(), model.decoder.to_dict(),
            model.quantizer.to_dict(),
            model.get('decoder_out_dims', decoder_out_dims))


def check_teacher_width(teacher: nn.Module, decoder_out_dims: int) -> None:
    """One-line error when the decoder cannot reconstruct the teacher."""
    width = getattr(teacher, 'out_channels', None)
    if width is not None and width != decoder_out_dims:
        raise UserInputError(
            f'VQKDTokenizer: decoder_out_dims={decoder_out_dims} but '
            f'{type(teacher).__name__} gives {width}-d features; set '
            f'model.decoder_out_dims={width}')
