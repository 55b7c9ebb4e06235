# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``mmbeitv2.apis.get_tokens``: paths, PIL images and preprocessed
tensors give the same ids, batched or not, and those ids are the nearest
codes of images preprocessed as the official ``test_get_code.py`` does
(checked against a reference written here with PIL and numpy only)."""
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from PIL import Image

from mmbeitv2.apis import get_tokens
from mmbeitv2.apis.tokens import load_image
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

S = 32  # the tokenizer's input size


def _reference_image(path: str) -> torch.Tensor:
    """Resize(round(S * 256 / 224)) bicubic on the shorter edge, then
    CenterCrop(S), then [0, 1]: PIL and numpy only (torchvision's size and
    crop-offset rules: long edge truncated, offsets rounded)."""
    img = Image.open(path).convert('RGB')
    w, h = img.size
    short = round(S * 256 / 224)  # 37
    if w <= h:
        size = (short, int(short * h / w))
    else:
        size = (int(short * w / h), short)
    img = img.resize(size, Image.BICUBIC)
    top = int(round((size[1] - S) / 2.0))
    left = int(round((size[0] - S) / 2.0))
    arr = np.asarray(img.crop((left, top, left + S, top + S)), np.float32)
    return torch.from_numpy(arr / 255.).permute(2, 0, 1)  # (3, S, S)


def _tokenizer():
    register_all_modules(init_default_scope=False)
    tiny = dict(embed_dims=32, num_layers=1, num_heads=2,
                feedforward_channels=64)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmbeitv2'):
        # kmeans_init=False: a random l2-normalised codebook, so ids differ
        # between patches (an un-initialised k-means codebook is all zeros
        # and every id would be 0 whatever the input).
        tok = MODELS.build(
            dict(type='VQKDTokenizer',
                 encoder=dict(arch=tiny, img_size=S, patch_size=8),
                 decoder=dict(arch=tiny, img_size=4, patch_size=1,
                              in_channels=8),
                 quantizer=dict(num_embed=16, embed_dims=8,
                                kmeans_init=False),
                 decoder_out_dims=12, teacher=None))
    tok.init_weights()
    return tok.eval()


def test_inputs_agree_and_match_reference(tmp_path):
    tok = _tokenizer()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = str(tmp_path / f'{i}.png')
        Image.fromarray(rng.integers(0, 255, (40 + i, 48, 3),
                                     dtype=np.uint8)).save(p)
        paths.append(p)
    ids = get_tokens(tok, paths, batch_size=2)
    assert ids.shape == (3, 16) and ids.dtype == torch.long
    # the nearest code by cosine (codes and vectors are l2-normalised) of
    # independently preprocessed images
    ref_x = torch.stack([_reference_image(p) for p in paths])
    with torch.no_grad():
        z = F.normalize(tok.encode_tokens(ref_x), dim=-1)  # (B, N, D)
        codes = tok.quantize.embedding.weight  # (K, D)
        expected = (z @ codes.t()).argmax(-1)  # (B, N)
    assert len(expected.unique()) >= 6, 'the reference ids are degenerate'
    assert torch.equal(ids, expected)
    pil = [Image.open(p) for p in paths]
    assert torch.equal(get_tokens(tok, pil), ids)
    x = torch.stack([load_image(p, S) for p in paths])
    torch.testing.assert_close(x, ref_x, rtol=0, atol=1e-6)
    assert torch.equal(get_tokens(tok, x), ids)
    assert torch.equal(ids, tok.get_tokens(x))
