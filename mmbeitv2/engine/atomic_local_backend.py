# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Atomic local file writes: write a temporary file, then ``os.replace``.

A process killed while writing leaves the previous file intact (POSIX
``rename`` is atomic within a file system), never a truncated one.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def _target_mode(filepath: str) -> int:
    if osp.exists(filepath):
        return os.stat(filepath).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically.

    Args:
        data (bytes): What to write.
        filepath (str | Path): Destination; its directory is created.
    """
    filepath = str(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    # The temporary file sits in the same directory so that os.replace is a
    # rename on one file system (atomic), not a copy.
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=dirname)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open()
        # would (0666 minus the umask), or keep the mode of the file it
        # replaces.
        os.chmod(tmp_path, _target_mode(filepath))
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def atomic_write_text(text: str,
                      filepath: Union[str, Path],
                      encoding: str = 'utf-8') -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(text.encode(encoding), filepath)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` whose ``put`` / ``put_text`` are atomic.

    Selected with ``backend_args=dict(backend='atomic_local')``; the mmbeitv2
    runner uses it for checkpoints written to local paths.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_text(obj, filepath, encoding)
