# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The embedded default dataset of the demo: "shapes10", written to disk.

The demo must run offline on a fresh machine, so the project generates its
own data instead of downloading it. The images are written in the ImageFolder
layout a user's data would have (``<root>/{train,val}/<class>/*.png``), so the
demo goes through the real loading code (mmpretrain ``CustomDataset``).

Each image shows one object whose *shape* is the class (10 classes). Every
other factor is drawn independently of the class: foreground colour and
texture (solid, stripes, checks, dots), background colour and texture
(gradient, stripes, noise), clutter (small random strokes), position, scale
and rotation. Colour statistics alone therefore do not give the class; a
model has to see the outline. A random-init ViT probe gets some of it from
raw pixels, a pretrained one should get clearly more (see docs/demo.md).

Generation is deterministic: the same ``seed`` gives byte-identical files,
and image ``i`` of a split depends only on ``(seed, split, i)``.
"""
import json
import math
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

SHAPES10_CLASSES = ('disk', 'ring', 'square', 'frame', 'triangle', 'star',
                    'cross', 'crescent', 'ell', 'pair')

# Images are drawn at SUPERSAMPLE x the output size and downscaled with a box
# filter, which antialiases the outlines (a 32 px shape drawn directly is
# mostly staircase).
SUPERSAMPLE = 4
_SPLIT_SALT = {'train': 0, 'val': 1, 'test': 2}


def _polygon(n: int, radius: float, phase: float = 0.) -> np.ndarray:
    """Regular n-gon vertices on a circle, (n, 2)."""
    ang = phase + 2 * math.pi * np.arange(n) / n
    return radius * np.stack([np.cos(ang), np.sin(ang)], axis=1)


def _star(points: int, r_out: float, r_in: float) -> np.ndarray:
    """Star outline alternating outer/inner radius, (2*points, 2)."""
    ang = math.pi / 2 + math.pi * np.arange(2 * points) / points
    rad = np.where(np.arange(2 * points) % 2 == 0, r_out, r_in)
    return np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)


def _shape_mask(name: str, size: int, cx: float, cy: float, r: float,
                theta: float, rng: np.random.Generator) -> Image.Image:
    """Binary ('L') mask of one shape centred at (cx, cy) with radius r."""
    mask = Image.new('L', (size, size), 0)
    draw = ImageDraw.Draw(mask)
    rot = np.array([[math.cos(theta), -math.sin(theta)],
                    [math.sin(theta), math.cos(theta)]])

    def poly(pts: np.ndarray, fill: int = 255) -> None:
        pts = pts @ rot.T + np.array([cx, cy])  # (P, 2)
        draw.polygon([tuple(p) for p in pts], fill=fill)

    def ellipse(x: float, y: float, rad: float, fill: int = 255) -> None:
        draw.ellipse([x - rad, y - rad, x + rad, y + rad], fill=fill)

    if name == 'disk':
        ellipse(cx, cy, r)
    elif name == 'ring':
        ellipse(cx, cy, r)
        ellipse(cx, cy, r * rng.uniform(0.5, 0.65), fill=0)
    elif name == 'square':
        poly(_polygon(4, r, math.pi / 4))
    elif name == 'frame':
        poly(_polygon(4, r, math.pi / 4))
        poly(_polygon(4, r * rng.uniform(0.5, 0.65), math.pi / 4), fill=0)
    elif name == 'triangle':
        poly(_polygon(3, r, math.pi / 2))
    elif name == 'star':
        poly(_star(5, r, r * 0.42))
    elif name == 'cross':
        a, b = r, r * 0.33
        poly(np.array([[-a, -b], [a, -b], [a, b], [-a, b]]))
        poly(np.array([[-b, -a], [b, -a], [b, a], [-b, a]]))
    elif name == 'crescent':
        ellipse(cx, cy, r)
        off = np.array([r * 0.45, 0.]) @ rot.T
        ellipse(cx + off[0], cy + off[1], r * 0.85, fill=0)
    elif name == 'ell':
        a, b = r, r * 0.38
        poly(np.array([[-a, -a], [-a + 2 * b, -a], [-a + 2 * b, a - 2 * b],
                       [a, a - 2 * b], [a, a], [-a, a]]))
    elif name == 'pair':
        off = np.array([r * 0.55, 0.]) @ rot.T
        ellipse(cx + off[0], cy + off[1], r * 0.42)
        ellipse(cx - off[0], cy - off[1], r * 0.42)
    else:
        raise ValueError(f'unknown shape {name!r}')
    return mask


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, size=3)


def _texture(kind: str, size: int, c1: np.ndarray, c2: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """(size, size, 3) float texture of two colours, class-independent."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    ang = rng.uniform(0, math.pi)
    u = xx * math.cos(ang) + yy * math.sin(ang)  # (S, S) coordinate
    if kind == 'solid':
        t = np.zeros_like(u)
    elif kind == 'gradient':
        t = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
    elif kind == 'stripes':
        t = (np.sin(2 * math.pi * u * rng.uniform(3, 7)) > 0).astype(
            np.float32)
    elif kind == 'checks':
        f = rng.uniform(3, 6)
        t = ((np.floor(xx * f) + np.floor(yy * f)) % 2).astype(np.float32)
    elif kind == 'noise':
        low = rng.uniform(0, 1, size=(8, 8)).astype(np.float32)
        t = np.asarray(
            Image.fromarray((low * 255).astype(np.uint8)).resize(
                (size, size), Image.BICUBIC), np.float32) / 255
    else:
        raise ValueError(kind)
    return c1 * (1 - t[..., None]) + c2 * t[..., None]  # (S, S, 3)


def render_image(label: int, rng: np.random.Generator,
                 img_size: int = 32) -> Image.Image:
    """Draw one image of class ``label``.

    Args:
        label (int): Index into :data:`SHAPES10_CLASSES`.
        rng (np.random.Generator): Source of every random factor.
        img_size (int): Output side in pixels. Defaults to 32.

    Returns:
        PIL.Image.Image: An RGB image of ``img_size`` x ``img_size``.
    """
    size = img_size * SUPERSAMPLE
    bg1, bg2 = _random_colour(rng), _random_colour(rng)
    bg = _texture(
        rng.choice(['solid', 'gradient', 'stripes', 'noise']), size, bg1,
        bg2 * 0.5 + bg1 * 0.5, rng)
    # Clutter: a few thin random strokes in other colours, so that "any
    # high-contrast pixel" is not the object.
    canvas = Image.fromarray(bg.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.integers(0, 4)):
        p = rng.uniform(0, size, size=4)
        draw.line(list(p), fill=tuple(int(v) for v in _random_colour(rng)),
                  width=int(rng.integers(1, 3) * SUPERSAMPLE))
    bg = np.asarray(canvas, np.float32)

    # Foreground colour: random, but kept away from the mean background so
    # the object is visible (distance in RGB >= 90).
    fg1 = _random_colour(rng)
    for _ in range(20):
        if np.linalg.norm(fg1 - bg.reshape(-1, 3).mean(0)) >= 90:
            break
        fg1 = _random_colour(rng)
    fg2 = fg1 * rng.uniform(0.4, 0.8)
    fg = _texture(
        rng.choice(['solid', 'solid', 'stripes', 'checks']), size, fg1, fg2,
        rng)

    r = size * rng.uniform(0.22, 0.42)
    cx, cy = rng.uniform(r * 0.8, size - r * 0.8, size=2)
    theta = rng.uniform(0, 2 * math.pi)
    mask = _shape_mask(SHAPES10_CLASSES[label], size, cx, cy, r, theta, rng)
    m = np.asarray(mask, np.float32)[..., None] / 255  # (S, S, 1)
    img = bg * (1 - m) + fg * m
    img = Image.fromarray(img.clip(0, 255).astype(np.uint8))
    return img.resize((img_size, img_size), Image.BOX)


def write_demo_dataset(root: str,
                       num_train_per_class: int = 200,
                       num_val_per_class: int = 50,
                       img_size: int = 32,
                       seed: int = 0,
                       splits: Sequence[str] = ('train', 'val')) -> Dict:
    """Write shapes10 to ``root`` in ImageFolder layout.

    ``root/{train,val}/<class>/<class>_NNNNN.png``, plus ``root/meta.json``
    with the arguments. If ``meta.json`` already holds the same arguments the
    files are not written again; if it holds other arguments, the splits it
    lists are deleted and written anew.

    Args:
        root (str): Output folder.
        num_train_per_class (int): Train images per class. Defaults to 200.
        num_val_per_class (int): Val images per class. Defaults to 50.
        img_size (int): Image side. Defaults to 32.
        seed (int): Base seed. Defaults to 0.
        splits (Sequence[str]): Splits to write. Defaults to
            ``('train', 'val')``.

    Returns:
        dict: The metadata written to ``meta.json``.
    """
    import os
    counts = {'train': num_train_per_class, 'val': num_val_per_class,
              'test': num_val_per_class}
    meta = dict(name='shapes10', classes=list(SHAPES10_CLASSES),
                img_size=img_size, seed=seed,
                splits={s: counts[s] for s in splits}, version=1)
    meta_file = osp.join(root, 'meta.json')
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            old = json.load(f)
        if old == meta:
            return meta
        if old.get('name') == 'shapes10':
            # Our own earlier write with other arguments: remove it, so
            # that no image of the old size survives in the new splits.
            import shutil
            os.remove(meta_file)
            for split in old.get('splits', {}):
                shutil.rmtree(osp.join(root, split), ignore_errors=True)
    for split in splits:
        for label, name in enumerate(SHAPES10_CLASSES):
            folder = osp.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(counts[split]):
                # One independent stream per image: (seed, split, class, i).
                rng = np.random.default_rng(
                    [seed, _SPLIT_SALT[split], label, i])
                render_image(label, rng, img_size).save(
                    osp.join(folder, f'{name}_{i:05d}.png'), optimize=False)
    with open(meta_file, 'w') as f:
        json.dump(meta, f, indent=1)
    return meta


def list_classes(root: str, split: str = 'train') -> List[str]:
    """Sorted class folder names of an ImageFolder split."""
    import os
    folder = osp.join(root, split)
    return sorted(d for d in os.listdir(folder)
                  if osp.isdir(osp.join(folder, d)))


def image_grid(root: str, split: str = 'val', per_class: int = 8,
               scale: int = 2) -> Tuple[Image.Image, List[str]]:
    """A preview grid: one row per class, ``per_class`` images each."""
    import os
    classes = list_classes(root, split)
    tiles = []
    for c in classes:
        files = sorted(os.listdir(osp.join(root, split, c)))[:per_class]
        tiles.append([Image.open(osp.join(root, split, c, f)).convert('RGB')
                      for f in files])
    w, h = tiles[0][0].size
    grid = Image.new('RGB', (w * per_class * scale, h * len(classes) * scale))
    for r, row in enumerate(tiles):
        for c, im in enumerate(row):
            grid.paste(im.resize((w * scale, h * scale), Image.NEAREST),
                       (c * w * scale, r * h * scale))
    return grid, classes
