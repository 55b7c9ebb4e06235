# Copyright (c) mmbeitv2 contributors. All rights reserved.
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from tiny_models import vit_arch, vqkd_cfg
from mmbeitv2.models.utils import with_cls_index
from mmbeitv2.errors import CheckpointLoadError
from mmbeitv2.utils import register_all_modules

TINY = vit_arch(64, 2, feedforward_channels=128)
# 32 px, patch 8 -> a 4x4 code map; the random EfficientNet-Lite0 teacher at
# 64 px gives a 4x4 map too.
CFG = vqkd_cfg(
    TINY, num_embed=32, decoder_out_dims=112,
    teacher=dict(
        type='EfficientNetLite0Teacher', input_size=64, pretrained=False))


def build(**kwargs):
    register_all_modules()
    from mmbeitv2.registry import MODELS
    cfg = copy.deepcopy(CFG)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def images(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, 32, 32, generator=g)


def test_loss_keys_and_values():
    torch.manual_seed(0)
    model = build().train()
    losses = model(images(), mode='loss')
    assert set(k for k in losses if 'loss' in k) == {'loss_rec', 'loss_commit'}
    # Random init: cosine distance near 1 (docs/official.md §1.4: ~0.995 at the
    # start).
    assert 0.5 < losses['loss_rec'].item() < 1.5
    # Commitment = (2 - 2 cos) / D per token, D = 16 -> at most 4/16.
    assert 0 < losses['loss_commit'].item() < 4 / 16
    assert 0 < losses['batch_code_usage'].item() <= 1
    assert 1 <= losses['batch_perplexity'].item() <= 32
    assert model.quantize.initted  # k-means ran on the first loss batch


def test_teacher_not_in_state_dict_nor_optimizer_and_stays_frozen():
    model = build().train()
    assert not any('teacher' in k for k in model.state_dict())
    names = {n for n, _ in model.named_parameters()}
    assert not any(n.startswith(('_teacher', 'teacher', 'quantize'))
                   for n in names)
    teacher_params = {id(p) for p in model.teacher.parameters()}
    assert not teacher_params & {id(p) for p in model.parameters()}
    model.train()
    assert not model.teacher.training
    model.to(torch.float64)  # _apply reaches the teacher too
    assert next(model.teacher.parameters()).dtype == torch.float64


def test_one_step_updates_params_and_codebook_by_ema_only():
    torch.manual_seed(0)
    model = build().train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    model(images(), mode='loss')  # k-means init
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    code_before = model.quantize.embedding.weight.clone()
    w_before = model.encoder.layers[0].attn.qkv.weight.clone()
    losses = model(images(seed=1), mode='loss')
    optim.update_params(losses['loss_rec'] + losses['loss_commit'])
    assert not torch.equal(model.encoder.layers[0].attn.qkv.weight, w_before)
    e = model.quantize.embedding.weight
    assert not torch.equal(e, code_before)
    # EMA with decay 0.99 moves each unit code by at most ~0.02.
    assert (e - code_before).norm(dim=1).max() < 0.03
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k


def test_get_tokens_and_eval_are_read_only():
    model = build().train()
    model(images(), mode='loss')
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tokens = model.get_tokens(images(seed=2))
    assert tokens.shape == (4, 16) and tokens.dtype == torch.long
    assert tokens.min() >= 0 and tokens.max() < 32
    assert torch.equal(model(images(seed=2), mode='tensor'), tokens)
    preds = model(images(seed=2), mode='predict')
    assert torch.equal(torch.stack([p['tokens'] for p in preds]), tokens)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    # get_tokens in train mode does not update either.
    model.train()
    model.get_tokens(images(seed=3))
    assert torch.equal(model.quantize.embedding.weight,
                       before['quantize.embedding.weight'])
    # per image, 1 - cos averaged over its 16 tokens: their mean is the
    # loss's reconstruction term on the same batch (in eval mode)
    dists = torch.tensor([p['rec_cos_distance'] for p in preds])
    model.eval()
    torch.testing.assert_close(
        dists.mean(), model.loss(images(seed=2))['loss_rec'])


def test_input_range_is_checked():
    model = build()
    with pytest.raises(AssertionError, match=r'\[0, 1\]'):
        model.get_tokens(images() * 255)


def test_tokens_only_mode():
    model = build(teacher=None)
    assert model.teacher is None
    assert model.get_tokens(images()).shape == (4, 16)
    with pytest.raises(RuntimeError, match='teacher'):
        model.loss(images())


def test_checkpoint_roundtrip_strict_and_no_kmeans(tmp_path):
    torch.manual_seed(0)
    trained = build().train()
    trained(images(), mode='loss')
    state = dict(trained.state_dict())
    state['teacher_model.x'] = torch.zeros(1)  # official extras: ignored
    path = str(tmp_path / 'tok.pth')
    torch.save(dict(state_dict=state), path)

    model = build(
        teacher=None, init_cfg=dict(type='Pretrained', checkpoint=path))
    assert model.quantize.initted
    trained.eval()
    torch.testing.assert_close(model.quantize.embedding.weight,
                               trained.quantize.embedding.weight)
    x = images(seed=5)
    assert torch.equal(model.eval().get_tokens(x), trained.get_tokens(x))
    # A training forward after loading does not re-run k-means.
    again = build(init_cfg=dict(type='Pretrained', checkpoint=path)).train()
    code = again.quantize.embedding.weight.clone()
    again(x, mode='loss')
    assert (again.quantize.embedding.weight - code).norm(dim=1).max() < 0.03

    # Strict: a missing key fails.
    del state['decode_task_layer.2.bias']
    torch.save(dict(state_dict=state), path)
    with pytest.raises(RuntimeError, match='decode_task_layer'):
        build(init_cfg=dict(type='Pretrained', checkpoint=path))


class _Unlisted:
    """An object no allow-list knows: its file needs explicit trust."""


def test_mmengine_checkpoint_loads_safely_and_unknown_needs_trust(tmp_path):
    """A full mmengine checkpoint loads with weights_only=True through the
    allow-list; a file pickling an unknown object is refused with a clear
    message and loads only with an explicit ``trusted=True``."""
    from mmengine.logging import HistoryBuffer
    model = build(teacher=None)
    model.quantize.embedding.initted.fill_(1.)
    hb = HistoryBuffer()
    hb.update(1.5)
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(
        dict(
            meta=dict(epoch=1),
            state_dict=model.state_dict(),
            message_hub=dict(log_scalars={'train/loss': hb})), path)
    loaded = build(
        teacher=None, init_cfg=dict(type='Pretrained', checkpoint=path))
    assert torch.equal(loaded.quantize.embedding.weight,
                       model.quantize.embedding.weight)

    path = str(tmp_path / 'odd.pth')
    torch.save(dict(meta=_Unlisted(), state_dict=model.state_dict()), path)
    with pytest.raises(CheckpointLoadError,
                       match=r'refuses to unpickle \(.*_Unlisted\).*'
                       '--trust-checkpoint'):
        build(teacher=None, init_cfg=dict(type='Pretrained', checkpoint=path))
    loaded = build(
        teacher=None,
        init_cfg=dict(type='Pretrained', checkpoint=path, trusted=True))
    assert torch.equal(loaded.quantize.embedding.weight,
                       model.quantize.embedding.weight)


def test_get_tokens_at_query_index_equals_gathered_full_map():
    """``query_index``: only those patches go through the last encoder
    block, and their codes equal the full map's (the encoder's earlier
    blocks still see every patch)."""
    # a random codebook (an un-initialised k-means one is all zeros: every
    # id 0, and any gather would match)
    model = build(teacher=None,
                  quantizer=dict(CFG['quantizer'], kmeans_init=False)).eval()
    pos = torch.tensor([[0, 5, 6, 15], [1, 2, 3, 4], [7, 8, 12, 14],
                        [3, 9, 10, 11]])  # (B, M)
    x = images()
    full = model.get_tokens(x)  # (B, N)
    assert model.num_patches == full.shape[1] == 16
    assert len(full.unique()) >= 8  # ids that tell patches apart
    got = model.get_tokens(x, with_cls_index(pos))
    assert got.shape == (4, 4)
    assert torch.equal(got, full.gather(1, pos))
    z = model.encode_tokens(x)  # (B, N, D) -> (B, M, D) at pos
    gathered = z.gather(1, pos[..., None].expand(-1, -1, z.shape[-1]))
    torch.testing.assert_close(
        model.encode_tokens(x, with_cls_index(pos)), gathered, rtol=1e-5,
        atol=1e-6)
    # the (B, D, H, W) map is the same vectors
    torch.testing.assert_close(
        model.encode(x).flatten(2).transpose(1, 2), z, rtol=0, atol=0)
