# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Features of every image in a folder, streamed to a ``.npy`` file.

Usage:
    python tools/analysis_tools/extract_features.py CONFIG CHECKPOINT \
        FOLDER --out feats.npy [--kind cls|mean|patch|layers] \
        [--batch-size 64] [--num-workers 2]

Images (recursive, sorted) go through CONFIG's test pipeline in DataLoader
workers; each batch's features are written into ``feats.npy`` through a
memory map opened for that batch only, so memory stays constant however
many images there are. Row i is the i-th path of ``feats.txt`` (written
next to the ``.npy``). CONFIG may also be a config name
(``mmbeitv2.apis.list_models()``). Same in Python:
``mmbeitv2.apis.extract_features``.
"""
import argparse
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmbeitv2.cli import run_cli  # noqa: E402
from mmbeitv2.errors import UserInputError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file or name')
    parser.add_argument('checkpoint', help='model weights')
    parser.add_argument('folder', help='folder of images (recursive)')
    parser.add_argument('--out', required=True, help='output .npy')
    parser.add_argument('--kind', default='cls',
                        choices=['cls', 'mean', 'patch', 'layers'])
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


class NpyRowWriter:
    """Append rows to a preallocated ``.npy`` (``open_memmap``), mapping
    only the rows of the current batch (constant memory)."""

    def __init__(self, path: str, num_rows: int, row_shape: tuple) -> None:
        header = np.lib.format.open_memmap(
            path, mode='w+', dtype=np.float32,
            shape=(num_rows, *row_shape))
        self.offset = header.offset
        del header  # unmapped: only the file and its header stay
        self.path, self.row_shape = path, row_shape
        self.row_bytes = 4 * int(np.prod(row_shape))
        self.next = 0

    def write(self, rows: np.ndarray) -> None:
        view = np.memmap(
            self.path, dtype=np.float32, mode='r+',
            offset=self.offset + self.next * self.row_bytes,
            shape=rows.shape)
        view[:] = rows
        view.flush()
        del view
        self.next += len(rows)


def main(argv=None) -> None:
    from mmengine.utils import ProgressBar
    from torch.utils.data import DataLoader

    from mmbeitv2.apis import get_model
    from mmbeitv2.apis.inference import (ImageListDataset, ImagePipeline,
                                         Normalize, _backbone,
                                         backbone_features, image_list,
                                         test_pipeline_cfg)
    args = parse_args(argv)
    if not osp.isdir(args.folder):
        raise UserInputError(f'image folder not found: {args.folder}')
    paths = image_list(args.folder)
    if not paths:
        raise UserInputError(f'no images under {args.folder} (jpg, png, '
                             'bmp, tif, webp, ...)')
    model = get_model(args.config, args.checkpoint, device=args.device)
    cfg = model.cfg
    loader = DataLoader(
        ImageListDataset(paths, ImagePipeline(test_pipeline_cfg(cfg, model))),
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        collate_fn=torch.stack)
    normalize = Normalize(cfg.model.get('data_preprocessor')).to(args.device)
    vit = _backbone(model)
    writer = None
    bar = ProgressBar(len(paths))
    for batch in loader:
        x = normalize(batch.to(args.device))
        feats = backbone_features(vit, x, args.kind).float().cpu().numpy()
        if writer is None:
            writer = NpyRowWriter(args.out, len(paths), feats.shape[1:])
        writer.write(feats)
        bar.update(len(feats))
    txt = osp.splitext(args.out)[0] + '.txt'
    with open(txt, 'w') as f:
        f.write('\n'.join(paths) + '\n')
    sys.stdout.write(f'\n{len(paths)} images -> {args.out} '
                     f'{(len(paths), *writer.row_shape)}, paths in {txt}\n')


if __name__ == '__main__':
    sys.exit(run_cli(main))
