# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Tiny shapes shared by the performance equivalence tests."""
import torch

ARCH = dict(embed_dims=64, num_layers=4, num_heads=2, feedforward_channels=128)
TOK_ARCH = dict(
    embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
IMG, PATCH = 32, 8  # 4x4 patch grid
# Opts of benchmarks/benchmark_stages.py for tiny models.
TINY_OPTS = dict(
    patch_size=PATCH, tokenizer_arch=TOK_ARCH, num_embed=32, code_dim=8,
    teacher=dict(
        type='TimmViTTeacher', model_name='vit_tiny_patch16_224',
        pretrained=False, input_size=IMG,
        model_kwargs=dict(patch_size=PATCH, depth=1, embed_dim=32,
                          num_heads=2)),
    teacher_dims=32)


def grads(module: torch.nn.Module) -> dict:
    """Parameter name -> gradient clone (None skipped)."""
    return {
        n: p.grad.clone()
        for n, p in module.named_parameters() if p.grad is not None
    }


def assert_grads_close(a: dict, b: dict, atol: float = 1e-5,
                       rtol: float = 1e-4) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=rtol,
                                   msg=lambda m, k=k: f'{k}: {m}')
