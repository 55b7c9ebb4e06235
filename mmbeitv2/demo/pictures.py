# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Pictures of what the demo learned (``tools/run_demo.py``).

- ``token_maps.png``: test images beside their VQ-KD code ids, each code
  drawn as a coloured patch (same code, same colour, id written in it);
- ``nearest_neighbours.png``: query test images and their nearest test
  images by the pretrained and by the random-init backbone's features (and
  by MAE's when run);
- ``probe_bars.png``: linear-probe top-1 per block of the pretrained and the
  random-init backbone, and of the teacher (and MAE when run).

Every picture has a fixed size in pixels (``*_SIZE``), whatever the data.
"""
import colorsys
import functools
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

TILE = 224  # one image / token map, pixels
GAP = 16
HEAD = 28  # title line
TOKEN_MAPS_GRID = (2, 4)  # rows, pairs per row
TOKEN_MAPS_SIZE = (TOKEN_MAPS_GRID[1] * (2 * TILE + GAP) + GAP,
                   HEAD + TOKEN_MAPS_GRID[0] * (TILE + GAP))
NN_TILE, NN_QUERIES, NN_K = 64, 8, 5


def nn_size(num_sets: int = 2) -> Tuple[int, int]:
    """Size of the nearest-neighbour picture with ``num_sets`` feature
    sets side by side (query column, then NN_K neighbours per set)."""
    return ((num_sets * NN_K + 1) * NN_TILE + (num_sets + 1) * GAP,
            HEAD + NN_QUERIES * (NN_TILE + 4))


NN_SIZE = nn_size(2)  # BEiT v2 and random init
BARS_SIZE = (960, 480)  # 9.6 x 4.8 in at 100 dpi


def code_colour(code: int) -> Tuple[int, int, int]:
    """A colour per code id: golden-ratio hues, two brightness levels."""
    hue = (code * 0.6180339887) % 1.0
    sat = 0.55 + 0.35 * ((code * 7) % 3) / 2
    val = 0.95 if code % 2 == 0 else 0.72
    return tuple(int(255 * c) for c in colorsys.hsv_to_rgb(hue, sat, val))


@functools.lru_cache(maxsize=None)
def _font(size: int):
    """PIL's default font at ``size`` (loaded once per size: a token map
    writes 64 ids)."""
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one bitmap size
        return ImageFont.load_default()


def _text(draw: ImageDraw.ImageDraw, xy, text: str, fill=(0, 0, 0),
          size: int = 12) -> None:
    draw.text(xy, text, fill=fill, font=_font(size))


def token_map_tile(tokens: np.ndarray, grid: Tuple[int, int]) -> Image.Image:
    """(H*W, ) code ids -> a TILE x TILE picture of coloured, labelled
    cells."""
    h, w = grid
    tile = Image.new('RGB', (TILE, TILE), 'white')
    draw = ImageDraw.Draw(tile)
    ch, cw = TILE / h, TILE / w
    for i, code in enumerate(tokens.reshape(-1).tolist()):
        r, c = divmod(i, w)
        box = (round(c * cw), round(r * ch), round((c + 1) * cw) - 1,
               round((r + 1) * ch) - 1)
        colour = code_colour(code)
        draw.rectangle(box, fill=colour)
        dark = sum(colour) < 3 * 140
        _text(draw, (box[0] + 2, box[1] + 8), str(code),
              fill=(255, 255, 255) if dark else (0, 0, 0), size=9)
    return tile


def token_maps(images: Sequence[Image.Image], tokens: np.ndarray,
               grid: Tuple[int, int], labels: Sequence[str],
               out: str, title: str = 'VQ-KD code ids of test images') -> str:
    """Images (as the tokenizer saw them) beside their code maps."""
    rows, cols = TOKEN_MAPS_GRID
    canvas = Image.new('RGB', TOKEN_MAPS_SIZE, 'white')
    draw = ImageDraw.Draw(canvas)
    _text(draw, (GAP, 6), f'{title} (same code = same colour)', size=14)
    for n, (img, tok, label) in enumerate(
            zip(images[:rows * cols], tokens, labels)):
        r, c = divmod(n, cols)
        x, y = GAP + c * (2 * TILE + GAP), HEAD + r * (TILE + GAP)
        canvas.paste(img.convert('RGB').resize((TILE, TILE), Image.NEAREST),
                     (x, y))
        canvas.paste(token_map_tile(np.asarray(tok), grid), (x + TILE, y))
        _text(draw, (x + 3, y + 3), label, fill=(255, 255, 0), size=12)
    canvas.save(out)
    return out


def cosine_neighbours(feats: np.ndarray, queries: Sequence[int],
                      k: int) -> np.ndarray:
    """Indices of the ``k`` most cosine-similar rows (not the query
    itself) of standardised ``feats``, per query: (Q, k)."""
    x = (feats - feats.mean(0)) / (feats.std(0) + 1e-6)
    x = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)
    sim = x[list(queries)] @ x.T  # (Q, N)
    sim[np.arange(len(queries)), list(queries)] = -np.inf
    return np.argsort(-sim, axis=1, kind='stable')[:, :k]


def nearest_neighbours(paths: Sequence[str], labels: np.ndarray,
                       feats: Dict[str, np.ndarray], queries: Sequence[int],
                       out: str) -> Dict[str, float]:
    """Per query row: the query, then its NN_K neighbours by each feature
    set of ``feats`` in order (e.g. BEiT v2, random init, MAE); a green
    frame marks a neighbour of the query's class, red another class.
    Returns the fraction of same-class neighbours per feature set."""
    names = list(feats)
    canvas = Image.new('RGB', nn_size(len(names)), 'white')
    draw = ImageDraw.Draw(canvas)
    x0 = [NN_TILE + (i + 2) * GAP + i * NN_K * NN_TILE
          for i in range(len(names))]
    _text(draw, (4, 6), 'query', size=13)
    same = {}
    for name, x in zip(names, x0):
        nn = cosine_neighbours(feats[name], queries, NN_K)
        same[name] = float((labels[nn] == labels[list(queries)][:, None])
                           .mean())
        _text(draw, (x, 6), f'{NN_K} nearest by {name} features '
              f'({100 * same[name]:.0f}% same class)', size=13)
        for r, (q, row) in enumerate(zip(queries, nn)):
            y = HEAD + r * (NN_TILE + 4)
            for j, idx in enumerate(row):
                _paste_framed(canvas, paths[idx], (x + j * NN_TILE, y),
                              labels[idx] == labels[q])
    for r, q in enumerate(queries):
        _paste_framed(canvas, paths[q], (GAP // 2, HEAD + r * (NN_TILE + 4)),
                      None)
    canvas.save(out)
    return same


def _paste_framed(canvas: Image.Image, path: str, xy: Tuple[int, int],
                  ok: Optional[bool]) -> None:
    with Image.open(path) as img:
        tile = img.convert('RGB').resize((NN_TILE - 4, NN_TILE - 4),
                                         Image.NEAREST)
    colour = 'white' if ok is None else ((40, 170, 40) if ok else
                                         (210, 40, 40))
    frame = Image.new('RGB', (NN_TILE, NN_TILE), colour)
    frame.paste(tile, (2, 2))
    canvas.paste(frame, xy)


def probe_bars(probes: Dict[str, Dict], out: str, title: str) -> str:
    """Grouped bars: per-block test top-1 of each probed model
    (``probe.json`` of ``feature_probe.py``); single-feature models (the
    teacher) are one bar."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(BARS_SIZE[0] / 100, BARS_SIZE[1] / 100),
                           dpi=100)
    x = 0.
    ticks: List[Tuple[float, str]] = []
    colours = dict(zip(probes, plt.cm.tab10.colors))
    for name, res in probes.items():
        accs = res['layer_top1']
        for i, acc in enumerate(accs):
            ax.bar(x, acc, color=colours[name], width=0.8,
                   edgecolor='black' if i == res['best_layer'] else None)
            ax.text(x, acc + 0.5, f'{acc:.1f}', ha='center', fontsize=7)
            ticks.append((x, f'{i + 1}' if len(accs) > 1 else ''))
            x += 1
        ax.text(x - (len(accs) + 1) / 2, -9, name, ha='center', fontsize=9)
        x += 1
    chance = 100 / next(iter(probes.values()))['num_classes']
    ax.axhline(chance, color='grey', linestyle='--', linewidth=0.8)
    ax.text(x - 0.5, chance + 1, 'chance', ha='right', fontsize=7,
            color='grey')
    ax.set_xticks([t for t, _ in ticks], [s for _, s in ticks], fontsize=7)
    ax.set_ylabel('linear probe top-1 (%), test')
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=10)
    fig.text(0.01, 0.01, 'bars: blocks 1..L (black edge: the block chosen on '
             'held-out train images)', fontsize=7)
    fig.subplots_adjust(bottom=0.16)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def class_name(path: str) -> str:
    """The ImageFolder class of an image path."""
    return osp.basename(osp.dirname(path))
