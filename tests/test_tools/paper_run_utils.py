# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Tiny data and random-weight files for stepping the paper configs through
``tools/train.py``: an ImageNet-layout folder (with ``meta/*.txt`` lists,
so mmpretrain's ``ImageNet`` does not need 1000 class folders), an
ADE20K-layout folder, and an official-layout tokenizer file."""
import os
import os.path as osp
import re
import sys

import numpy as np
import torch
from PIL import Image
from subprocess_utils import run
from tiny_run_utils import REPO, tool_env

# The inverse of mmbeitv2/checkpoint/official_keys.py's ViT rules.
_TO_OFFICIAL = [
    (r'^(encoder|decoder)_norm\.', r'\1.fc_norm.'),
    (r'\.patch_embed\.projection\.', '.patch_embed.proj.'),
    (r'\.layers\.(\d+)\.ln1\.', r'.blocks.\1.norm1.'),
    (r'\.layers\.(\d+)\.ln2\.', r'.blocks.\1.norm2.'),
    (r'\.layers\.(\d+)\.ffn\.layers\.0\.0\.', r'.blocks.\1.mlp.fc1.'),
    (r'\.layers\.(\d+)\.ffn\.layers\.1\.', r'.blocks.\1.mlp.fc2.'),
    (r'\.layers\.(\d+)\.', r'.blocks.\1.'),
]


def _save_png(path: str, rng, size) -> None:
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def make_imagenet(root: str, per_split: int = 2, size=(48, 40)) -> str:
    """ImageNet layout: ``{train,val}/<wnid>/<img>`` and
    ``meta/{train,val}.txt`` (``<wnid>/<img> <label>``); mmpretrain's
    ``ImageNet`` reads the lists when they exist, so two class folders are
    enough (labels 0 and 999 cover the range)."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    for split in ('train', 'val'):
        lines = []
        for i in range(per_split):
            wnid, label = (('n01440764', 0) if i % 2 == 0 else
                           ('n15075141', 999))
            os.makedirs(osp.join(root, split, wnid), exist_ok=True)
            rel = f'{wnid}/{split}_{i}.png'
            _save_png(osp.join(root, split, rel), rng, size)
            lines.append(f'{rel} {label}\n')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(lines)
    return root


def make_ade20k(root: str, per_split: int = 2, size=(64, 48)) -> str:
    """ADE20K layout: ``images/{training,validation}/*.jpg`` and
    ``annotations/{training,validation}/*.png`` (labels 0..150, 0 =
    ignore after ``reduce_zero_label``)."""
    rng = np.random.default_rng(0)
    for split in ('training', 'validation'):
        img_dir = osp.join(root, 'images', split)
        ann_dir = osp.join(root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(per_split):
            name = f'ADE_{split}_{i:08d}'
            pixels = rng.integers(0, 256, (size[1], size[0], 3),
                                  dtype=np.uint8)
            Image.fromarray(pixels).save(osp.join(img_dir, name + '.jpg'))
            label = rng.integers(0, 151, (size[1], size[0]), dtype=np.uint8)
            Image.fromarray(label).save(osp.join(ann_dir, name + '.png'))
    return root


def to_official_key(key: str) -> str:
    """An mmbeitv2 ``VQKDTokenizer`` key -> the official unilm key."""
    for pattern, repl in _TO_OFFICIAL:
        key = re.sub(pattern, repl, key)
    return key


def official_tokenizer_state(tokenizer_cfg: dict, seed: int = 0) -> dict:
    """Random weights of ``tokenizer_cfg`` in the official key layout (what
    ``vqkd_encoder_base_decoder_3x768x12_clip.pth`` holds under ``model``),
    with a trained-codebook marker (``initted = 1``)."""
    from mmbeitv2.registry import MODELS
    from mmbeitv2.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    from mmengine.registry import DefaultScope
    cfg = {k: v for k, v in tokenizer_cfg.items() if k != 'init_cfg'}
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        model = MODELS.build(cfg)
    state = {}
    for key, value in model.state_dict().items():
        # Not in the official layout: recomputed / mmbeitv2-only buffers.
        if key.endswith(('relative_position_index', 'steps_unused')):
            continue
        state[to_official_key(key)] = value.clone()
    weight = torch.nn.functional.normalize(
        torch.randn_like(state['quantize.embedding.weight']), dim=-1)
    state['quantize.embedding.weight'] = weight
    state['quantize.embedding.embed_avg'] = weight.clone()
    state['quantize.embedding.initted'].fill_(1.)
    return state


def make_tokenizer_file(tmp_dir: str, tokenizer_cfg: dict) -> str:
    """Write an official-layout tokenizer file with random weights and
    convert it with ``tools/model_converters/vqkd_unilm_to_mmbeitv2.py``;
    returns the converted file (what ``init_cfg.checkpoint`` takes)."""
    src = osp.join(tmp_dir, 'vqkd_official_random.pth')
    dst = osp.join(tmp_dir, 'vqkd_random_mmbeitv2.pth')
    torch.save(dict(model=official_tokenizer_state(tokenizer_cfg)), src)
    run([
        sys.executable,
        osp.join(REPO, 'tools', 'model_converters',
                 'vqkd_unilm_to_mmbeitv2.py'), src, dst
    ], check=True, env=tool_env(tmp_dir), capture_output=True, timeout=300)
    os.remove(src)
    return dst


def run_train(tmp_dir: str, config: str, work_dir: str, *extra: str,
              timeout: float = 600) -> str:
    """``tools/train.py CONFIG --work-dir WORK_DIR EXTRA...`` to the end;
    returns its output (asserts exit status 0 and no traceback)."""
    env = tool_env(tmp_dir)
    # ViT-B sizes: both cores of the test machine pay off here.
    env['OMP_NUM_THREADS'] = '2'
    proc = run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
            work_dir, *extra
        ],
        cwd=tmp_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'Traceback' not in out, out[-4000:]
    return out
