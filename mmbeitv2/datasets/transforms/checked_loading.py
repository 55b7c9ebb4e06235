# Copyright (c) mmbeitv2 contributors. All rights reserved.
import io
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log
from PIL import Image

from mmbeitv2.errors import UserInputError
from mmbeitv2.registry import TRANSFORMS

_JPEG_SOI = b'\xff\xd8'
_JPEG_EOI = b'\xff\xd9'
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_PNG_IEND = b'IEND\xaeB`\x82'


class CorruptImageError(UserInputError):
    """An image file that cannot be decoded completely."""


def find_image_defect(data: bytes) -> Optional[str]:
    """Why ``data`` is not a complete image, or None if it looks complete.

    OpenCV decodes a truncated JPEG without an error (the missing rows come
    out grey), so the end marker of JPEG/PNG files is checked; a file without
    it is decoded fully by Pillow, which raises on truncation, before it is
    called broken (some writers append bytes after the end marker).

    Args:
        data (bytes): The file's bytes.

    Returns:
        str, optional: The defect, e.g. ``'truncated (image file is
        truncated ...)'``.
    """
    if not data:
        return 'empty file'
    tail = data.rstrip(b'\x00\r\n ')
    if data.startswith(_JPEG_SOI) and tail.endswith(_JPEG_EOI):
        return None
    if data.startswith(_PNG_SIGNATURE) and tail.endswith(_PNG_IEND):
        return None
    if data.startswith((_JPEG_SOI, _PNG_SIGNATURE)):
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
        except Exception as exc:  # noqa: BLE001 - any decode failure
            return f'truncated ({str(exc).splitlines()[0][:80]})'
    return None


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that names corrupt or truncated images,
    and can skip them.

    Args:
        skip_corrupt (bool): Return None for a broken image instead of
            raising, so the dataset draws another sample (training only), and
            log the file with the number of skips so far in this process
            (a file drawn again is skipped and counted again).
            Defaults to False.
        **kwargs: The arguments of ``LoadImageFromFile`` (``to_float32``,
            ``color_type``, ``imdecode_backend``, ``backend_args``, ...).
    """

    # Per process (each DataLoader worker counts its own).
    num_skipped = 0

    def __init__(self, skip_corrupt: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.skip_corrupt = skip_corrupt

    def _decode(self, filename: str) -> np.ndarray:
        """Read and decode ``filename``; raise CorruptImageError."""
        try:
            data = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError:
            raise UserInputError(
                f'image file not found: {filename}; check the dataset '
                'folder / annotation file') from None
        defect = find_image_defect(data)
        img = None
        if defect is None:
            try:
                img = mmcv.imfrombytes(
                    data, flag=self.color_type, backend=self.imdecode_backend)
            except Exception as exc:  # noqa: BLE001 - any decode failure
                defect = f'{type(exc).__name__}: {exc}'
            if img is None and defect is None:
                defect = 'not a decodable image'
        if defect is not None:
            raise CorruptImageError(
                f'corrupt image file {filename} ({defect}); delete or '
                'replace it, or set skip_corrupt=True in '
                'CheckedLoadImageFromFile to skip and count such files')
        return img

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']``.

        Args:
            results (dict): Must hold ``img_path``.

        Returns:
            dict, optional: ``results`` with ``img``, ``img_shape`` and
            ``ori_shape``; None for a skipped broken image.
        """
        filename = results['img_path']
        try:
            img = self._decode(filename)
        except CorruptImageError as exc:
            if not self.skip_corrupt:
                raise
            CheckedLoadImageFromFile.num_skipped += 1
            print_log(
                f'{exc.args[0].split(";")[0]}: skipped '
                f'({CheckedLoadImageFromFile.num_skipped} skipped so far in '
                'this process)',
                logger='current',
                level=30)
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
