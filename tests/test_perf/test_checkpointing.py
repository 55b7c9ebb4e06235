# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Gradient checkpointing (``with_cp=True``) is a pure memory switch: same
loss and grads, each block's forward re-run in backward, fewer tensors
kept for backward."""
import torch

from mmbeitv2.models.backbones.beitv2_vit import BEiTv2ViT
from mmbeitv2.models.utils import BEiTBlock
from ._tiny import ARCH, IMG, PATCH, assert_grads_close, grads


def _backbones():
    out = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        m = BEiTv2ViT(arch=ARCH, img_size=IMG, patch_size=PATCH,
                      with_mask_token=True, drop_path_rate=0.,
                      out_type='raw', use_shared_rel_pos_bias=True,
                      use_rel_pos_bias=False,
                      with_cp=with_cp)
        m.init_weights()
        out.append(m)
    out[1].load_state_dict(out[0].state_dict())
    return out


def _loss(model, x, mask):
    return model(x, mask)[0].pow(2).mean()


def test_with_cp_same_loss_and_grads():
    plain, ckpt = _backbones()
    x = torch.randn(2, 3, IMG, IMG)
    mask = torch.rand(2, 16) > 0.5
    losses = []
    for m in (plain, ckpt):
        loss = _loss(m, x, mask)
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[0], losses[1], atol=0, rtol=1e-6)
    assert_grads_close(grads(plain), grads(ckpt), atol=1e-6, rtol=1e-5)
    assert len(grads(ckpt)) == len(list(ckpt.parameters()))


def test_with_cp_recomputes_each_block():
    calls = {}
    plain, ckpt = _backbones()
    x = torch.randn(2, 3, IMG, IMG)
    for name, m in (('plain', plain), ('ckpt', ckpt)):
        calls[name] = 0

        def hook(*args, name=name):
            calls[name] += 1

        handles = [
            layer.ln1.register_forward_hook(hook) for layer in m.layers
        ]
        _loss(m, x, None).backward()
        for h in handles:
            h.remove()
    assert calls['plain'] == ARCH['num_layers']
    assert calls['ckpt'] == 2 * ARCH['num_layers']  # forward + recompute


def test_with_cp_keeps_fewer_tensors_for_backward():
    saved = {}
    plain, ckpt = _backbones()
    x = torch.randn(2, 3, IMG, IMG)
    for name, m in (('plain', plain), ('ckpt', ckpt)):
        nbytes = []

        def pack(t, nbytes=nbytes):
            nbytes.append(t.numel() * t.element_size())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = _loss(m, x, None)
        loss.backward()
        saved[name] = sum(nbytes)
    # only each block's input survives the forward under checkpointing
    assert saved['ckpt'] < 0.5 * saved['plain'], saved


def test_no_checkpoint_without_grad():
    """Under no_grad (e.g. the frozen tokenizer) the switch does nothing."""
    torch.manual_seed(0)
    block = BEiTBlock(16, 2, 32, with_cp=True)
    x = torch.randn(1, 5, 16)
    with torch.no_grad():
        y = block(x)
    block.with_cp = False
    with torch.no_grad():
        torch.testing.assert_close(block(x), y, atol=0, rtol=0)
