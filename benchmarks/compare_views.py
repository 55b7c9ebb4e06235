# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Compare mmbeitv2's training images with those of the official BEiT v2.

Usage:
    python -m benchmarks.compare_views FOLDER [--crops 100] \
        [--seed 0] [--sections [decode views jitter vqkd finetune]] \
        [--throughput] [--throughput-images 300] [--repeats 5] \
        [--config CONFIG] [--out result.json]

FOLDER holds photos (``*.jpg``, ``*.jpeg``, ``*.png``), e.g. ImageNet
validation images. The official side is rebuilt from what the official code
calls (microsoft/unilm ``beit2/datasets.py``, ``beit2/transforms.py``):
PIL decoding (``Image.open(f).convert('RGB')``), torchvision's
``resized_crop`` / ``adjust_*`` / ``Resize`` / ``CenterCrop`` on PIL images.
Every row compares the same crop box (or jitter factors), so the numbers are
the implementation differences alone. PSNR is over uint8 RGB, ``inf`` when
equal.

Sections (each prints a table; ``--out`` writes all numbers as JSON):

- ``decode``: cv2 decoding (mmcv's default) and mmcv's pillow decoding vs
  the official PIL decoding, per image, and on a CMYK and an EXIF-rotated
  re-encoding of the first photo.
- ``views``: ``--crops`` random crops (official scale (0.2, 1) and ratio
  (3/4, 4/3)) resized bicubic to 224: mmpretrain's two-view crop (cv2
  ``mmcv.imresize``; on the same PIL pixels, and with cv2 decoding as the
  old config) and mmbeitv2's ``PILRandomResizedCropWithTwoPic`` (both views)
  vs the official ``resized_crop``.
- ``jitter``: mmpretrain's ``ColorJitter(0.4, 0.4, 0.4)`` and mmbeitv2's
  ``PILColorJitter`` vs torchvision's ``adjust_brightness/contrast/
  saturation`` in the order and with the factors each one drew.
- ``vqkd``: the VQ-KD training crop (mmpretrain ``RandomResizedCrop``, scale
  (0.08, 1), pillow backend) vs torchvision's, and the eval resize
  (``ResizeEdge(256)`` + ``CenterCrop(224)`` vs ``Resize(256)`` +
  ``CenterCrop(224)``), with cv2 and pillow decoding.
- ``finetune``: every RandAugment op of mmpretrain's 'timm_increasing'
  policies vs timm's at magnitude 9 (same sign, probability 1), and the
  statistics of mmpretrain's RandomErasing fill vs timm's N(0, 1) 'pixel'
  fill. The crop and the eval resize are those of ``vqkd``.
- ``throughput`` (with ``--throughput``): images/s of one process (one
  DataLoader worker) through the whole pretraining pipeline of ``--config``
  (``train_pipeline``) and through its ``mmpretrain_train_pipeline``,
  alternated, median of ``--repeats``; also per CPU second of the process
  (less sensitive to other jobs on a shared machine).
"""
import argparse
import glob
import json
import math
import os.path as osp
import random
import statistics
import sys
import time
from typing import Dict, List

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets',
                          'imagenet_bs128_beitv2.py')
SCALE = (0.2, 1.0)
VQKD_SCALE = (0.08, 1.0)
RATIO = (3. / 4., 4. / 3.)
SECTIONS = ('decode', 'views', 'jitter', 'vqkd', 'finetune')


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images; inf when equal."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return math.inf if mse == 0 else 10 * math.log10(255.**2 / mse)


def max_abs(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def summary(values: List[float]) -> Dict[str, float]:
    """Median and worst (min) of PSNRs."""
    return dict(median=statistics.median(values), worst=min(values))


def list_images(folder: str) -> List[str]:
    from mmbeitv2.errors import UserInputError
    paths = sorted(
        p for ext in ('jpg', 'jpeg', 'JPEG', 'png')
        for p in glob.glob(osp.join(folder, f'*.{ext}')))
    if not paths:
        raise UserInputError(
            f'no *.jpg, *.jpeg or *.png file in {folder}; pass a folder of '
            'photos')
    return paths


def official_load(path: str):
    """The official loader (torchvision ``pil_loader``): RGB PIL image."""
    from PIL import Image
    with open(path, 'rb') as f:
        return Image.open(f).convert('RGB')


def mmcv_load(path: str, backend: str) -> np.ndarray:
    """mmcv's ``LoadImageFromFile`` (BGR uint8); the pillow backend as the
    pretraining config sets it (EXIF orientation ignored, as PIL)."""
    from mmcv.transforms import LoadImageFromFile
    color = 'color' if backend == 'cv2' else 'color_ignore_orientation'
    loader = LoadImageFromFile(imdecode_backend=backend, color_type=color)
    return loader(dict(img_path=path))['img']


def compare_decode(paths: List[str]) -> Dict:
    rows = {'cv2': [], 'pillow': []}
    for path in paths:
        ref = np.array(official_load(path))
        for backend in rows:
            img = mmcv_load(path, backend)[..., ::-1]
            rows[backend].append((psnr(img, ref), max_abs(img, ref)))
    result = {
        k: dict(**summary([p for p, _ in v]), max_abs=max(m for _, m in v))
        for k, v in rows.items()
    }
    result['variants'] = decode_variants(paths[0])
    return result


def decode_variants(path: str) -> Dict:
    """Re-encodings of one photo that ImageNet also holds: a CMYK JPEG
    and a JPEG with an EXIF orientation tag (6, rotate 90); PSNR of each
    mmcv decoding vs the official one (None: a different shape)."""
    import tempfile

    rgb = official_load(path)
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmyk = osp.join(tmp, 'cmyk.jpg')
        rgb.convert('CMYK').save(cmyk, quality=90)
        exif_file = osp.join(tmp, 'exif.jpg')
        exif = rgb.getexif()
        exif[274] = 6  # Orientation: rotate 90 clockwise to display
        rgb.crop((0, 0, rgb.width, rgb.height * 3 // 4)).save(
            exif_file, quality=90, exif=exif.tobytes())
        for name, file in (('cmyk', cmyk), ('exif_orientation', exif_file)):
            ref = np.array(official_load(file))
            for backend in ('cv2', 'pillow'):
                img = mmcv_load(file, backend)[..., ::-1]
                same = img.shape == ref.shape
                result[f'{name}_{backend}'] = dict(
                    psnr=psnr(img, ref) if same else None,
                    max_abs=max_abs(img, ref) if same else None,
                    shape=list(img.shape), official_shape=list(ref.shape))
    return result


def compare_views(paths: List[str], crops: int, seed: int) -> Dict:
    import mmcv
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode

    from mmbeitv2.datasets.transforms import PILRandomResizedCropWithTwoPic
    new = PILRandomResizedCropWithTwoPic(
        size=224,
        second_size=224,
        scale=SCALE,
        interpolation='bicubic',
        second_interpolation='bicubic')
    images = [(official_load(p), mmcv_load(p, 'cv2'), mmcv_load(p, 'pillow'))
              for p in paths]
    out = {k: [] for k in ('old_same_pixels', 'old_cv2_decode', 'new_model',
                           'new_tokenizer')}
    mad_old, shrink = [], 0
    for k in range(crops):
        pil, bgr_cv2, bgr_pil = images[k % len(images)]
        random.seed(seed + k)
        top, left, h, w = new.get_params(pil.height, pil.width, SCALE, RATIO)
        shrink += h > 224 and w > 224
        ref = np.array(
            TF.resized_crop(pil, top, left, h, w, [224, 224],
                            InterpolationMode.BICUBIC))
        rgb = np.array(pil)
        old = mmcv.imresize(rgb[top:top + h, left:left + w], (224, 224),
                            interpolation='bicubic', backend='cv2')
        old_cv2 = mmcv.imresize(bgr_cv2[top:top + h, left:left + w],
                                (224, 224), interpolation='bicubic',
                                backend='cv2')[..., ::-1]
        random.seed(seed + k)  # the same box again, drawn by the transform
        views = new(dict(img=bgr_pil.copy()))['img']
        out['old_same_pixels'].append(psnr(old, ref))
        out['old_cv2_decode'].append(psnr(old_cv2, ref))
        out['new_model'].append(psnr(views[0][..., ::-1], ref))
        out['new_tokenizer'].append(psnr(views[1][..., ::-1], ref))
        mad_old.append(np.abs(old.astype(float) - ref).mean())
    result = {k: summary(v) for k, v in out.items()}
    result['old_same_pixels']['mean_abs'] = float(np.mean(mad_old))
    result['crops'] = crops
    result['crops_shrinking_both_sides'] = int(shrink)
    return result


def compare_jitter(paths: List[str], draws: int, seed: int) -> Dict:
    import torch
    import torchvision.transforms.functional as TF

    from mmbeitv2.registry import TRANSFORMS
    cfg = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.)
    old = TRANSFORMS.build(dict(type='ColorJitter', **cfg))
    new = TRANSFORMS.build(dict(type='PILColorJitter', **cfg))
    ops = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation)
    worst = dict(old=0, new=0)
    for k in range(draws):
        path = paths[k % len(paths)]
        bgr = mmcv_load(path, 'pillow')
        # the factors each side draws: numpy (old), torch (new)
        np.random.seed(seed + k)
        order_old, *factors_old = old._rand_params()
        torch.manual_seed(seed + k)
        order_new, *factors_new = new.jitter.get_params(
            new.jitter.brightness, new.jitter.contrast,
            new.jitter.saturation, new.jitter.hue)
        np.random.seed(seed + k)
        torch.manual_seed(seed + k)
        for name, jitter, order, factors in (
            ('old', old, order_old, factors_old),
            ('new', new, order_new, factors_new),
        ):
            out = jitter(dict(img=bgr.copy()))['img'][..., ::-1]
            ref = official_load(path)
            for i in order:
                if i < 3:
                    ref = ops[i](ref, factors[i])
            worst[name] = max(worst[name], max_abs(out, np.array(ref)))
    return dict(draws=draws, max_abs_old=worst['old'],
                max_abs_new=worst['new'])


def compare_vqkd(paths: List[str], crops: int, seed: int) -> Dict:
    import torchvision.transforms as T
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode

    from mmbeitv2.registry import TRANSFORMS
    rrc = TRANSFORMS.build(
        dict(
            type='RandomResizedCrop',
            scale=224,
            crop_ratio_range=VQKD_SCALE,
            aspect_ratio_range=RATIO,
            interpolation='bicubic',
            backend='pillow'))
    resize = TRANSFORMS.build(
        dict(
            type='ResizeEdge',
            scale=256,
            edge='short',
            interpolation='bicubic',
            backend='pillow'))
    center = TRANSFORMS.build(dict(type='CenterCrop', crop_size=224))
    ref_eval = T.Compose([
        T.Resize(256, interpolation=InterpolationMode.BICUBIC),
        T.CenterCrop(224)
    ])
    out = {
        f'{s}_{b}': []
        for s in ('train', 'eval') for b in ('cv2', 'pillow')
    }
    for k in range(crops):
        path = paths[k % len(paths)]
        pil = official_load(path)
        for backend in ('cv2', 'pillow'):
            bgr = mmcv_load(path, backend)
            np.random.seed(seed + k)
            top, left, h, w = rrc.rand_crop_params(bgr)
            np.random.seed(seed + k)
            img = rrc(dict(img=bgr))['img'][..., ::-1]
            ref = np.array(
                TF.resized_crop(pil, top, left, h, w, [224, 224],
                                InterpolationMode.BICUBIC))
            out[f'train_{backend}'].append(psnr(img, ref))
            if k < len(paths):
                img = center(resize(dict(img=bgr)))['img'][..., ::-1]
                ref = np.array(ref_eval(pil))
                out[f'eval_{backend}'].append(psnr(img, ref))
    return {k: summary(v) for k, v in out.items()}


# timm's increasing RandAugment ops (official fine-tuning: timm
# create_transform(auto_augment='rand-m9-mstd0.5-inc1')), in the order of
# mmpretrain's 'timm_increasing' policies.
TIMM_INC_OPS = ('AutoContrast', 'Equalize', 'Invert', 'Rotate',
                'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
                'ColorIncreasing', 'ContrastIncreasing',
                'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX',
                'ShearY', 'TranslateXRel', 'TranslateYRel')
# mmcv turns these the other way for a positive magnitude than PIL.
_MIRRORED = ('Rotate', 'Shear', 'Translate')
# ops whose magnitude is negated at random on both sides (kept positive here)
_SIGNED = ('ColorTransform', 'Contrast', 'Brightness', 'Sharpness')


def compare_finetune(paths: List[str], seed: int) -> Dict:
    """Each RandAugment op at magnitude 9 (the official m9), applied with
    probability 1 and a positive magnitude on both sides, to a 224 px
    version of every photo; and RandomErasing's fill statistics in the
    normalised space the model sees."""
    from PIL import Image
    from timm.data.auto_augment import AugmentOp
    from mmpretrain.datasets.transforms.auto_augment import \
        RANDAUG_POLICIES

    from mmbeitv2.registry import TRANSFORMS
    mean = (124, 116, 104)  # timm img_mean: round(255 * IMAGENET mean)
    hparams = dict(
        translate_const=100, img_mean=mean, interpolation=Image.BICUBIC)
    images = [
        np.array(official_load(p).resize((224, 224), Image.BICUBIC))
        for p in paths
    ]
    positive = seed  # a python random state whose next draw keeps m > 0
    while True:
        random.seed(positive)
        if random.random() <= 0.5:
            break
        positive += 1
    ops = {}
    for name, policy in zip(TIMM_INC_OPS,
                            RANDAUG_POLICIES['timm_increasing']):
        ref_op = AugmentOp(name, prob=1.0, magnitude=9, hparams=hparams)
        cfg = dict(policy, prob=1.0, magnitude_level=9, magnitude_std=0)
        if policy['type'] in _MIRRORED + _SIGNED:
            cfg['random_negative_prob'] = float(policy['type'] in _MIRRORED)
        if policy['type'] in _MIRRORED:
            cfg.update(pad_val=mean[::-1], interpolation='bicubic')
        op = TRANSFORMS.build(cfg)
        values, worst = [], 0
        for rgb in images:
            random.seed(positive)
            ref = np.array(ref_op(Image.fromarray(rgb)))
            out = op(dict(img=np.ascontiguousarray(
                rgb[..., ::-1])))['img'][..., ::-1]
            values.append(psnr(out, ref))
            worst = max(worst, max_abs(out, ref))
        ops[f'{name} / {policy["type"]}'] = dict(
            **summary(values), max_abs=worst)
    # RandomErasing fill: timm 'pixel' = N(0, 1) per normalised value;
    # mmpretrain 'rand' = N(mean, std) in pixels, truncated and clipped.
    erasing = TRANSFORMS.build(
        dict(
            type='RandomErasing',
            erase_prob=1.,
            mode='rand',
            fill_color=[103.53, 116.28, 123.675],
            fill_std=[57.375, 57.12, 58.395]))
    np.random.seed(seed)
    patch = erasing._fill_pixels(
        np.zeros((500, 500, 3), np.uint8), 0, 0, 500, 500).astype(float)
    z = (patch - erasing.fill_color) / erasing.fill_std
    fill = dict(
        mean=float(z.mean()),
        std=float(z.std()),
        clipped=float(np.mean((patch == 0) | (patch == 255))))
    return dict(randaugment=ops, erasing_fill=fill)


def measure_throughput(paths: List[str], config: str, images: int,
                       repeats: int) -> Dict:
    import cv2
    import torch
    from mmengine.config import Config
    from mmengine.dataset import Compose

    from mmbeitv2.registry import TRANSFORMS
    cv2.setNumThreads(0)  # as mmengine sets it in training processes
    torch.set_num_threads(1)
    cfg = Config.fromfile(config)
    pipes = {
        name: Compose([TRANSFORMS.build(t) for t in cfg[key]])
        for name, key in (('new', 'train_pipeline'),
                          ('old', 'mmpretrain_train_pipeline'))
    }
    order = [paths[i % len(paths)] for i in range(images)]
    rates = {name: [] for name in pipes}
    cpu_rates = {name: [] for name in pipes}
    for pipe in pipes.values():  # warm-up: page cache, imports
        for path in order[:len(paths)]:
            pipe(dict(img_path=path))
    for r in range(repeats):
        names = list(pipes) if r % 2 == 0 else list(pipes)[::-1]
        for name in names:
            start, cpu = time.perf_counter(), time.process_time()
            for path in order:
                pipes[name](dict(img_path=path))
            rates[name].append(images / (time.perf_counter() - start))
            cpu_rates[name].append(images / (time.process_time() - cpu))
    stages = {}
    for name, pipe in pipes.items():  # CPU ms per transform, one pass
        times = [[] for _ in pipe.transforms]
        for path in order:
            results = dict(img_path=path)
            for i, t in enumerate(pipe.transforms):
                cpu = time.process_time()
                results = t(results)
                times[i].append(1000 * (time.process_time() - cpu))
        stages[name] = {
            type(t).__name__: statistics.mean(v)
            for t, v in zip(pipe.transforms, times)
        }
    return {
        name: dict(
            median=statistics.median(v),
            min=min(v),
            max=max(v),
            cpu_median=statistics.median(cpu_rates[name]),
            cpu_ms_per_stage=stages[name],
            runs=v)
        for name, v in rates.items()
    }


def fmt(value: float) -> str:
    return 'exact' if math.isinf(value) else f'{value:.2f}'


def report(result: Dict) -> None:
    for name in SECTIONS:
        if name in result:
            globals()[f'_report_{name}'](result[name])
    if 'throughput' in result:
        print('pretraining pipeline, images/s in one process: median '
              '[min-max] (wall); images per CPU second (median)')
        for k, v in result['throughput'].items():
            print(f'  {k}: {v["median"]:.1f} [{v["min"]:.1f}-{v["max"]:.1f}]'
                  f'; {v["cpu_median"]:.1f}')
            print('    CPU ms per image: ' + ', '.join(
                f'{t} {ms:.1f}' for t, ms in v['cpu_ms_per_stage'].items()))


def _report_decode(decode: Dict) -> None:
    print('decode vs PIL (PSNR dB, per image): median / worst / max abs')
    for k, v in decode.items():
        if k != 'variants':
            print(f'  {k:8s} {fmt(v["median"])} / {fmt(v["worst"])} / '
                  f'{v["max_abs"]}')
    print('decode vs PIL, re-encoded first photo: PSNR dB / max abs')
    for k, v in decode['variants'].items():
        if v['psnr'] is None:
            print(f'  {k:24s} shape {v["shape"]} vs official '
                  f'{v["official_shape"]}')
        else:
            print(f'  {k:24s} {fmt(v["psnr"])} / {v["max_abs"]}')


def _report_views(views: Dict) -> None:
    print(f'views vs official resized_crop, {views["crops"]} crops '
          f'({views["crops_shrinking_both_sides"]} shrink both sides), '
          'PSNR dB: median / worst')
    for k in ('old_same_pixels', 'old_cv2_decode', 'new_model',
              'new_tokenizer'):
        v = views[k]
        print(f'  {k:16s} {fmt(v["median"])} / {fmt(v["worst"])}')
    print(f'  old mean abs difference (same pixels): '
          f'{views["old_same_pixels"]["mean_abs"]:.2f} / 255')


def _report_jitter(jit: Dict) -> None:
    print(f'jitter vs torchvision, {jit["draws"]} draws: max abs '
          f'mmpretrain ColorJitter {jit["max_abs_old"]} / 255, '
          f'PILColorJitter {jit["max_abs_new"]} / 255')


def _report_vqkd(vqkd: Dict) -> None:
    print('VQ-KD vs official, PSNR dB: median / worst')
    for k, v in vqkd.items():
        print(f'  {k:14s} {fmt(v["median"])} / {fmt(v["worst"])}')


def _report_finetune(finetune: Dict) -> None:
    print('fine-tune RandAugment ops at m9 vs timm, PSNR dB: median / worst'
          ' / max abs')
    for k, v in finetune['randaugment'].items():
        print(f'  {k:38s} {fmt(v["median"])} / {fmt(v["worst"])} / '
              f'{v["max_abs"]}')
    fill = finetune['erasing_fill']
    print(f'fine-tune RandomErasing fill (normalised; timm: mean 0, std 1, '
          f'unclipped): mean {fill["mean"]:.3f}, std {fill["std"]:.3f}, '
          f'clipped {100 * fill["clipped"]:.2f}%')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('folder', help='a folder of photos')
    parser.add_argument('--crops', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--sections',
        nargs='*',
        default=list(SECTIONS),
        choices=SECTIONS,
        help='comparisons to run (none: only --throughput)')
    parser.add_argument('--throughput', action='store_true')
    parser.add_argument('--throughput-images', type=int, default=300)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='config with train_pipeline and mmpretrain_train_pipeline')
    parser.add_argument('--out', help='write the numbers as JSON here')
    args = parser.parse_args()

    paths = list_images(args.folder)
    from mmbeitv2.utils import register_all_modules
    register_all_modules()
    sections = dict(
        decode=lambda: compare_decode(paths),
        views=lambda: compare_views(paths, args.crops, args.seed),
        jitter=lambda: compare_jitter(paths, args.crops, args.seed),
        vqkd=lambda: compare_vqkd(paths, args.crops, args.seed),
        finetune=lambda: compare_finetune(paths, args.seed))
    result = dict(images=len(paths))
    for name in args.sections:
        result[name] = sections[name]()
    if args.throughput:
        result['throughput'] = measure_throughput(paths, args.config,
                                                  args.throughput_images,
                                                  args.repeats)
    report(result)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1, default=str)


if __name__ == '__main__':
    from mmbeitv2.cli import run_cli
    sys.exit(run_cli(main))
