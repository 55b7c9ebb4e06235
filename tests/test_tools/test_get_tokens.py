# Copyright (c) mmbeitv2 contributors. All rights reserved.
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tool_loader import load_tool
from mmbeitv2.utils import register_all_modules

ROOT = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = """
tiny = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
model = dict(
    type='VQKDTokenizer',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0., 0., 0.],
                           std=[255., 255., 255.], to_rgb=True),
    encoder=dict(arch=tiny, img_size=32, patch_size=8),
    decoder=dict(arch=tiny, img_size=4, patch_size=1, in_channels=8),
    quantizer=dict(num_embed=16, embed_dims=8),
    decoder_out_dims=12,
    # Would need the network: get_tokens.py must never build it.
    teacher=dict(type='CLIPTeacher', model_name='ViT-B-16',
                 pretrained='openai'))
"""


def _load_tool():
    return load_tool('analysis_tools/get_tokens.py')


@pytest.fixture
def setup(tmp_path):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    from mmengine.config import Config
    cfg_path = tmp_path / 'tiny_vqkd.py'
    cfg_path.write_text(CONFIG)
    model_cfg = Config.fromfile(str(cfg_path)).model
    model_cfg.teacher = None
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.train()
    model.quantize(model.encode(torch.rand(4, 3, 32, 32)))  # k-means init
    ckpt = tmp_path / 'tok.pth'
    torch.save(dict(state_dict=model.state_dict()), str(ckpt))
    rng = np.random.default_rng(0)
    paths = []
    for i, size in enumerate([(40, 48), (64, 64)]):
        p = tmp_path / f'img{i}.png'
        Image.fromarray(rng.integers(0, 255, (*size, 3),
                                     dtype=np.uint8)).save(p)
        paths.append(str(p))
    return str(cfg_path), str(ckpt), paths, model.eval()


def test_get_tokens_cli(setup, tmp_path, monkeypatch, capsys):
    cfg, ckpt, paths, model = setup
    tool = _load_tool()
    out = str(tmp_path / 'tokens.json')
    monkeypatch.setattr(sys, 'argv',
                        ['get_tokens.py', cfg, ckpt, *paths, '--out', out])
    tool.main()
    printed = capsys.readouterr().out
    with open(out) as f:
        result = json.load(f)
    assert list(result) == paths  # keys: the paths as given
    # Same preprocessing by hand: Resize(round(32*256/224)=37) bicubic on
    # the shorter edge, CenterCrop(32), [0, 1].
    for p in paths:
        x = _by_hand(p, 32)
        assert x.shape == (3, 32, 32) and 0 <= x.min() and x.max() <= 1
        torch.testing.assert_close(tool.load_image(p, 32), x)
        ids = model.get_tokens(x[None])[0].tolist()
        assert result[p] == ids and len(ids) == 16
        assert f'{p}: ' + ' '.join(map(str, ids)) in printed


def _by_hand(path: str, size: int) -> torch.Tensor:
    """The tool's contract with PIL and numpy alone: the shorter edge
    resized (bicubic) to round(S * 256 / 224), the longer one in
    proportion (truncated, as torchvision), a centred S x S crop, [0, 1]."""
    with Image.open(path) as img:
        img = img.convert('RGB')
        w, h = img.size
        short = round(size * 256 / 224)  # 37 for 32
        if w <= h:
            new_w, new_h = short, int(short * h / w)
        else:
            new_w, new_h = int(short * w / h), short
        img = img.resize((new_w, new_h), Image.BICUBIC)
    top, left = round((new_h - size) / 2), round((new_w - size) / 2)
    arr = np.asarray(img, dtype=np.float32)[top:top + size,
                                            left:left + size]  # (S, S, 3)
    return torch.from_numpy(arr / 255.).permute(2, 0, 1)  # (3, S, S)
