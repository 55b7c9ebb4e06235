# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The fused SDPA path and the query subset of ``BEiTAttention`` /
``BEiTBlock`` give the plain path's numbers, forward and backward."""
import pytest
import torch

from mmbeitv2.models.backbones.beitv2_vit import BEiTv2ViT
from mmbeitv2.models.utils import BEiTAttention, BEiTBlock, gather_tokens
from ._tiny import ARCH, IMG, PATCH, assert_grads_close, grads

C, HEADS, WIN = 32, 4, (3, 3)
N = WIN[0] * WIN[1] + 1


def _pair(cls, **kwargs):
    torch.manual_seed(0)
    fast = cls(**kwargs, use_sdpa=True)
    plain = cls(**kwargs, use_sdpa=False)
    for p in fast.parameters():  # non-zero biases, tables and gammas
        torch.nn.init.normal_(p, std=0.2)
    plain.load_state_dict(fast.state_dict())
    return fast, plain


def _run(module, x, bias, **kwargs):
    x = x.clone().requires_grad_()
    b = None if bias is None else bias.clone().requires_grad_()
    out = module(x, b, **kwargs)
    weight = torch.linspace(-1, 1, out.numel(), device=out.device)
    (out * weight.view_as(out).to(out.dtype)).sum().backward()
    return out, x.grad, None if b is None else b.grad


@pytest.mark.parametrize('own_table', [False, True])
@pytest.mark.parametrize('shared', [False, True])
def test_sdpa_matches_plain_attention(own_table, shared):
    fast, plain = _pair(
        BEiTAttention, embed_dims=C, num_heads=HEADS,
        window_size=WIN if own_table else None)
    x = torch.randn(3, N, C)
    bias = torch.randn(HEADS, N, N) if shared else None
    outs = [_run(m, x, bias) for m in (fast, plain)]
    for a, b in zip(*outs):
        if a is not None:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert_grads_close(grads(fast), grads(plain))
    # the biases really reach the output: the fused path is not ignoring
    # the additive mask
    if shared or own_table:
        plain_nobias = BEiTAttention(C, HEADS, use_sdpa=False)
        plain_nobias.load_state_dict(plain.state_dict(), strict=False)
        assert not torch.allclose(plain_nobias(x), outs[1][0], atol=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_sdpa_matches_plain_attention_cuda():
    """On CUDA, SDPA with a float additive bias (shared table + own table)
    picks a fused kernel of its own; it still gives the plain path's output
    and input, bias and parameter gradients (fp32)."""
    fast, plain = _pair(
        BEiTAttention, embed_dims=C, num_heads=HEADS, window_size=WIN)
    fast, plain = fast.cuda(), plain.cuda()
    torch.manual_seed(1)
    x = torch.randn(3, N, C, device='cuda')
    bias = torch.randn(HEADS, N, N, device='cuda')
    outs = [_run(m, x, bias) for m in (fast, plain)]
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)
    assert_grads_close(grads(fast), grads(plain), atol=1e-4, rtol=1e-3)


def test_sdpa_matches_plain_backbone():
    """Whole pretraining ViT with mask: features and every grad agree."""
    models = []
    for sdpa in (True, False):
        torch.manual_seed(0)
        m = BEiTv2ViT(arch=ARCH, img_size=IMG, patch_size=PATCH,
                      with_mask_token=True, use_sdpa=sdpa,
                      out_type='raw', use_shared_rel_pos_bias=True,
                      use_rel_pos_bias=False)
        m.init_weights()
        models.append(m)
    models[1].load_state_dict(models[0].state_dict())
    torch.nn.init.normal_(models[0].rel_pos_bias.relative_position_bias_table)
    models[1].load_state_dict(models[0].state_dict())
    x = torch.randn(2, 3, IMG, IMG)
    mask = torch.rand(2, 16) > 0.5
    outs = []
    for m in models:
        out = m(x, mask)[0]
        (out**2).mean().backward()
        outs.append(out)
    torch.testing.assert_close(outs[0], outs[1], atol=1e-5, rtol=1e-4)
    assert_grads_close(grads(models[0]), grads(models[1]))


@pytest.mark.parametrize('sdpa', [True, False])
@pytest.mark.parametrize('own_table', [False, True])
@pytest.mark.parametrize('with_cp', [False, True])
def test_query_index_matches_full_block(sdpa, own_table, with_cp):
    """``query_index`` = gathering the full output, and so are the grads
    of anything computed from those tokens."""
    torch.manual_seed(0)
    block = BEiTBlock(C, HEADS, 2 * C, window_size=WIN if own_table else None,
                      use_sdpa=sdpa, with_cp=with_cp)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(3, N, C)
    bias = torch.randn(HEADS, N, N)
    idx = torch.stack([torch.randperm(N)[:4].sort().values for _ in range(3)])

    full, gx_full, gb_full = _run(
        lambda a, b: gather_tokens(block(a, b), idx), x, bias)
    g_full = grads(block)
    block.zero_grad(set_to_none=True)
    part, gx_part, gb_part = _run(block, x, bias, query_index=idx)
    assert part.shape == (3, 4, C)
    torch.testing.assert_close(part, full, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(gx_part, gx_full, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(gb_part, gb_full, atol=1e-5, rtol=1e-4)
    assert_grads_close(grads(block), g_full)


def test_gather_tokens():
    x = torch.arange(2 * 5 * 3.).view(2, 5, 3)
    idx = torch.tensor([[0, 4], [3, 1]])
    out = gather_tokens(x, idx)
    torch.testing.assert_close(out[0], x[0, [0, 4]])
    torch.testing.assert_close(out[1], x[1, [3, 1]])


def _aten_ops(fn) -> set:
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return {e.key for e in prof.key_averages()}


def test_cpu_learned_bias_takes_the_plain_math():
    """On CPU a bias that needs a gradient skips SDPA (its math fallback
    adds a NaN-safe softmax); without a gradient the fused kernel runs."""
    attn = BEiTAttention(C, HEADS, window_size=WIN)  # use_sdpa=True
    x = torch.randn(2, N, C)
    train_ops = _aten_ops(lambda: attn(x).sum().backward())
    assert 'aten::scaled_dot_product_attention' not in train_ops
    assert 'aten::_softmax' in train_ops
    with torch.no_grad():
        eval_ops = _aten_ops(lambda: attn(x))
    assert 'aten::_scaled_dot_product_flash_attention_for_cpu' in eval_ops
    # a fixed bias (no gradient) keeps the fused kernel in training too
    shared = BEiTAttention(C, HEADS)
    ops = _aten_ops(
        lambda: shared(x.requires_grad_(), torch.randn(HEADS, N, N)).sum()
        .backward())
    assert 'aten::_scaled_dot_product_flash_attention_for_cpu' in ops
