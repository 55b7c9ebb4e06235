# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Save segmentation predictions as overlay images.

For each image: ``[image | prediction overlay | ground-truth overlay]`` side
by side (the ground truth only when a label map exists; 255 = ignore is left
uncoloured), written as PNG under ``--out-dir``, plus the pixel accuracy of
each prediction in the log.

Example (the CamVid config of configs/beitv2/benchmarks)::

    CFG=$(ls configs/beitv2/benchmarks/upernet_*camvid*.py)
    python tools/analysis_tools/seg_overlay.py $CFG \
        work_dirs/downstream/camvid_seg/iter_150.pth \
        --out-dir work_dirs/downstream/camvid_overlays --num 8
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Save segmentation prediction overlays')
    parser.add_argument('config', help='segmentation config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--img-dir',
        help='images to segment; defaults to the test split of the config')
    parser.add_argument(
        '--ann-dir',
        help='label maps (same stem, .png); defaults to the test split of '
        'the config')
    parser.add_argument(
        '--num', type=int, default=8, help='how many images (sorted names)')
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='overlay opacity')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def split_dirs(cfg) -> Tuple[str, str]:
    """Image and label folders of the config's test split."""
    dataset = cfg.test_dataloader.dataset
    prefix = dataset.get('data_prefix', {})
    root = dataset.get('data_root', '')
    return (osp.join(root, prefix.get('img_path', '')),
            osp.join(root, prefix.get('seg_map_path', '')))


def colorize(img: np.ndarray, label: np.ndarray, palette: np.ndarray,
             opacity: float) -> np.ndarray:
    """Blend ``palette[label]`` into an RGB image; labels outside the
    palette (255 = ignore) stay as the image.

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB.
        label (np.ndarray): (H, W) int class ids.
        palette (np.ndarray): (K, 3) uint8 RGB colours.
        opacity (float): weight of the colour.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    valid = label < len(palette)
    color = palette[np.where(valid, label, 0)].astype(np.float32)
    out = img.astype(np.float32)
    out[valid] = (1 - opacity) * out[valid] + opacity * color[valid]
    return out.round().clip(0, 255).astype(np.uint8)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.logging import print_log
    from mmengine.model import revert_sync_batchnorm
    from PIL import Image

    from mmbeitv2.compat import install_runtime_patches
    install_runtime_patches()
    cfg = Config.fromfile(args.config)  # custom_imports: mmcv.ops stand-in
    from mmseg.apis import inference_model, init_model

    model = revert_sync_batchnorm(
        init_model(cfg, args.checkpoint, device=args.device))
    img_dir, ann_dir = split_dirs(cfg)
    img_dir, ann_dir = args.img_dir or img_dir, args.ann_dir or ann_dir
    palette = np.array(model.dataset_meta['palette'], dtype=np.uint8)
    names = sorted(
        f for f in os.listdir(img_dir)
        if f.lower().endswith(('.jpg', '.jpeg', '.png')))[:args.num]
    os.makedirs(args.out_dir, exist_ok=True)
    for name in names:
        path = osp.join(img_dir, name)
        img = np.array(Image.open(path).convert('RGB'))
        pred = inference_model(model, path).pred_sem_seg.data[0].cpu().numpy()
        panels = [img, colorize(img, pred, palette, args.opacity)]
        msg = ''
        ann = osp.join(ann_dir, osp.splitext(name)[0] + '.png')
        if osp.exists(ann):
            gt = np.array(Image.open(ann))
            panels.append(colorize(img, gt, palette, args.opacity))
            valid = gt != 255
            msg = f', pixel acc {100 * (pred[valid] == gt[valid]).mean():.1f}%'
        out = osp.join(args.out_dir, osp.splitext(name)[0] + '_overlay.png')
        Image.fromarray(np.concatenate(panels, axis=1)).save(out)
        print_log(f'{out}{msg}', logger='current')


if __name__ == '__main__':
    main()
