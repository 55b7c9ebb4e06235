# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``mmbeitv2.apis.get_tokens``: paths, PIL images and preprocessed
tensors give the same ids, batched or not."""
import numpy as np
import torch
from mmengine.registry import DefaultScope
from PIL import Image

from mmbeitv2.apis import get_tokens
from mmbeitv2.apis.tokens import load_image
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules


def test_inputs_agree(tmp_path):
    register_all_modules(init_default_scope=False)
    tiny = dict(embed_dims=32, num_layers=1, num_heads=2,
                feedforward_channels=64)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        tok = MODELS.build(
            dict(type='VQKDTokenizer',
                 encoder=dict(arch=tiny, img_size=32, patch_size=8),
                 decoder=dict(arch=tiny, img_size=4, patch_size=1,
                              in_channels=8),
                 quantizer=dict(num_embed=16, embed_dims=8),
                 decoder_out_dims=12, teacher=None))
    tok.init_weights()
    tok.eval()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = str(tmp_path / f'{i}.png')
        Image.fromarray(rng.integers(0, 255, (40 + i, 48, 3),
                                     dtype=np.uint8)).save(p)
        paths.append(p)
    ids = get_tokens(tok, paths, batch_size=2)
    assert ids.shape == (3, 16) and ids.dtype == torch.long
    pil = [Image.open(p) for p in paths]
    assert torch.equal(get_tokens(tok, pil), ids)
    x = torch.stack([load_image(p, 32) for p in paths])
    assert torch.equal(get_tokens(tok, x), ids)
    assert torch.equal(ids, tok.get_tokens(x))
