# Copyright (c) mmbeitv2 contributors. All rights reserved.
import copy
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from tiny_models import beitv2_cfg
from mmbeitv2.registry import MODELS
from mmbeitv2.utils import register_all_modules

register_all_modules()

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
ARCH = dict(embed_dims=64, num_layers=4, num_heads=2, feedforward_channels=128)
TOK_ARCH = dict(
    embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
K = 32


def tiny_cfg():
    return beitv2_cfg(ARCH, TOK_ARCH, num_embed=K, early_layers=3)


def build_model(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build({**tiny_cfg(), **kwargs})
    model.init_weights()
    return model


def batch(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randint(
        0, 256, (b, 3, 32, 32), generator=g, dtype=torch.uint8)
    samples = []
    for i in range(b):
        mask = np.zeros((4, 4), bool)
        mask.flat[[(i + j * 3) % 16 for j in range(6)]] = True
        ds = DataSample()
        ds.set_field(mask, 'mask')  # numpy, as PackInputs leaves it
        samples.append(ds)
    return dict(inputs=[imgs, imgs.clone()], data_samples=samples)


def tokenizer_state(model):
    return {
        k: v.clone()
        for k, v in model.target_generator.state_dict().items()
    }


def build_wrapper(model):
    cfg = Config.fromfile(
        osp.join(
            ROOT, 'configs/beitv2/'
            'beitv2_vit-4x128-p4_1xb32-coslr-400iter_cifar10.py'))
    wrapper_cfg = copy.deepcopy(cfg.optim_wrapper)
    return build_optim_wrapper(model, wrapper_cfg)


def test_one_step_keeps_tokenizer_frozen():
    model = build_model()
    model.train()
    tok = model.target_generator
    assert not tok.training and model.backbone.training
    assert all(not p.requires_grad for p in tok.parameters())
    before = tokenizer_state(model)
    backbone_before = model.backbone.layers[0].attn.qkv.weight.clone()
    wrapper = build_wrapper(model)

    data = model.data_preprocessor(batch(), training=True)
    # views: model view ImageNet-normalised, tokenizer view in [0, 1]
    assert data['inputs'][1].min() >= 0 and data['inputs'][1].max() <= 1
    assert data['inputs'][0].min() < -1
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'loss_mim', 'loss_mim_agg', 'acc_mim', 'acc_mim_agg',
        'acc_mim_majority'
    }
    # near-uniform logits at init: CE ~ log K for both branches
    for key in ('loss_mim', 'loss_mim_agg'):
        assert losses[key].item() == pytest.approx(math.log(K), abs=0.3)
    loss, log_vars = model.parse_losses(losses)
    torch.testing.assert_close(loss,
                               losses['loss_mim'] + losses['loss_mim_agg'])
    wrapper.update_params(loss)

    # the student moved, the tokenizer did not (every tensor, bit-exact)
    assert not torch.equal(model.backbone.layers[0].attn.qkv.weight,
                           backbone_before)
    after = tokenizer_state(model)
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), key
    assert all(p.grad is None for p in tok.parameters())
    assert not tok.training
    # tokenizer parameters are not in the optimizer at all
    in_opt = {
        id(p)
        for group in wrapper.optimizer.param_groups
        for p in group['params']
    }
    assert not any(id(p) in in_opt for p in tok.parameters())
    trainable = [
        p for n, p in model.named_parameters()
        if not n.startswith('target_generator.')
    ]
    assert all(id(p) in in_opt for p in trainable)


def test_official_weight_decay_groups():
    """No decay on pos_embed/cls_token, ndim <= 1 and biases; mask_token,
    the shared rel-pos table and the MIM head weight are decayed (spec
    §2.6, §6.11)."""
    model = build_model()
    wrapper = build_wrapper(model)
    names = {id(p): n for n, p in model.named_parameters()}
    wd = {
        names[id(g['params'][0])]: g['weight_decay']
        for g in wrapper.optimizer.param_groups
    }
    lr = {g['lr'] for g in wrapper.optimizer.param_groups}
    assert len(lr) == 1  # no layer-wise lr decay in pretraining
    decayed = {n for n, v in wd.items() if v > 0}
    assert {
        'backbone.mask_token',
        'backbone.rel_pos_bias.relative_position_bias_table',
        'head.cls_head.weight', 'backbone.layers.0.attn.qkv.weight',
        'backbone.patch_embed.projection.weight',
        'neck.patch_aggregation.0.ffn.layers.1.weight'
    } <= decayed
    for n, v in wd.items():
        p = dict(model.named_parameters())[n]
        if p.ndim <= 1 or n.endswith('cls_token'):
            assert v == 0, n


def test_train_mode_keeps_tokenizer_in_eval():
    model = build_model()
    model.train()
    assert not model.target_generator.training
    assert model.neck.training and model.head.training
    model.eval()
    assert not model.target_generator.training


@pytest.mark.parametrize('masked_only', [True, False])
def test_loss_only_sees_masked_targets_and_agg_branch_inputs(masked_only):
    model = build_model(use_masked_only_last_blocks=masked_only).eval()
    data = model.data_preprocessor(batch(), training=False)
    with torch.no_grad():
        ref = model(**data, mode='loss')
        # the final block's patch outputs reach only the final branch
        handle = model.backbone.layers[-1].register_forward_hook(
            lambda m, i, o: torch.cat(
                [o[:, :1], o[:, 1:] + torch.randn_like(o[:, 1:])], 1))
        got = model(**data, mode='loss')
        handle.remove()
        torch.testing.assert_close(
            got['loss_mim_agg'], ref['loss_mim_agg'], rtol=0, atol=0)
        assert (got['loss_mim'] - ref['loss_mim']).abs() > 1e-4
        # ... its [CLS] reaches the aggregation branch
        handle = model.backbone.layers[-1].register_forward_hook(
            lambda m, i, o: torch.cat(
                [o[:, :1] + torch.randn_like(o[:, :1]), o[:, 1:]], 1))
        got = model(**data, mode='loss')
        handle.remove()
        torch.testing.assert_close(
            got['loss_mim'], ref['loss_mim'], rtol=0, atol=0)
        assert (got['loss_mim_agg'] - ref['loss_mim_agg']).abs() > 1e-6
        # the early (3rd) block's patch tokens reach the aggregation branch
        handle = model.backbone.layers[2].register_forward_hook(
            lambda m, i, o: torch.cat(
                [o[:, :1], o[:, 1:] + torch.randn_like(o[:, 1:])], 1))
        got = model(**data, mode='loss')
        handle.remove()
        assert (got['loss_mim_agg'] - ref['loss_mim_agg']).abs() > 1e-4
        # targets at unmasked positions do not matter
        tok = model.target_generator
        real = tok.get_tokens
        mask = torch.stack(
            [torch.as_tensor(d.mask).flatten() for d in data['data_samples']])

        def fake_tokens(images, query_index=None):
            # every unmasked patch gets a wrong target; with masked-only
            # blocks, the patches the query asks for are looked up in the
            # same corrupted map, so a query that held an unmasked patch
            # would change the loss
            t = real(images)
            t = torch.where(mask, t, (t + 7) % K)
            if query_index is None:
                return t
            return t.gather(1, query_index[:, 1:] - 1)  # (B, M)

        tok.get_tokens = fake_tokens
        got = model(**data, mode='loss')
        del tok.get_tokens
        for key in ref:
            torch.testing.assert_close(got[key], ref[key], rtol=0, atol=0)


@pytest.mark.parametrize('precision', ['autocast', 'fp32'])
def test_tokenizer_precision_under_autocast(precision):
    """'autocast' (official: beit2/engine_for_pretraining.py tokenizes
    inside the student's autocast): the tokenizer's encoder runs in bf16;
    'fp32': it runs in fp32 and the targets equal the fp32 ones exactly.
    The student runs in bf16 either way."""
    model = build_model().eval()
    model.tokenizer_precision = precision
    data = model.data_preprocessor(batch(), training=False)
    dtypes = []
    # the output of a Linear shows the autocast dtype
    model.target_generator.encoder.layers[0].attn.proj.register_forward_hook(
        lambda m, i, o: dtypes.append(o.dtype))
    model.backbone.layers[0].attn.proj.register_forward_hook(
        lambda m, i, o: dtypes.append(o.dtype))
    with torch.no_grad():
        ref = model.get_targets(data['inputs'][1])
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = model.get_targets(data['inputs'][1])
            model(**data, mode='loss')
    tokenizer = torch.bfloat16 if precision == 'autocast' else torch.float32
    # fp32 reference, the targets, the loss's targets; then the student
    assert dtypes == [torch.float32] + [tokenizer] * 2 + [torch.bfloat16]
    if precision == 'fp32':
        assert torch.equal(ref, got)
    else:  # near-tied codes may flip; most do not (measured 99%+)
        assert (ref == got).float().mean() >= 0.9


def test_tokenizer_precision_is_checked():
    from mmbeitv2.errors import ConfigValueError
    with pytest.raises(ConfigValueError, match="tokenizer_precision='bf16'"):
        build_model(tokenizer_precision='bf16')


@pytest.mark.parametrize('num_masked', [0, 1])
def test_grid_mismatch_is_reported(num_masked):
    """Checked once, before any token is computed, on both paths (no masked
    patch: every token computed; one in each image: masked-only)."""
    model = build_model()
    data = model.data_preprocessor(batch(), training=False)
    for ds in data['data_samples']:
        mask = np.zeros((2, 2), bool)
        mask.flat[:num_masked] = True
        ds.set_field(mask, 'mask')
    model.target_generator.get_tokens = None  # never reached
    with pytest.raises(ValueError, match='tokenizer grid of 16 patches does '
                       'not match the mask grid of 4'):
        model(**data, mode='loss')


def test_widths_follow_the_backbone():
    """The neck's arch and the head's width are the backbone's when the
    config leaves them out: the same model as one that states them."""
    cfg = tiny_cfg()
    del cfg['backbone']['out_indices'], cfg['neck']['arch'], \
        cfg['head']['embed_dims']
    model = MODELS.build(cfg)
    block = model.neck.patch_aggregation[0]
    assert (block.attn.embed_dims, block.attn.num_heads,
            block.ffn.feedforward_channels) == (64, 2, 128)
    assert model.head.cls_head.in_features == 64
    stated = MODELS.build(tiny_cfg())
    assert [(n, p.shape) for n, p in model.named_parameters()] == \
        [(n, p.shape) for n, p in stated.named_parameters()]


@pytest.mark.parametrize('part,key,value,message', [
    ('head', 'embed_dims', 32,
     r"head\.embed_dims=32 differs from the backbone's embed_dims=64; "
     'leave head.embed_dims unset'),
    ('neck', 'arch', dict(ARCH, embed_dims=32),
     r"neck\.arch embed_dims=32 differs from the backbone's embed_dims=64; "
     'leave neck.arch unset'),
    ('neck', 'arch', dict(ARCH, feedforward_channels=256),
     r'neck\.arch feedforward_channels=256 differs .*=128'),
    ('neck', 'arch', 'base', r'neck\.arch embed_dims=768 .*embed_dims=64'),
])
def test_width_mismatch_is_refused_in_one_line(part, key, value, message):
    from mmbeitv2.errors import ConfigValueError
    cfg = tiny_cfg()
    cfg[part][key] = value
    with pytest.raises(ConfigValueError, match=message) as info:
        MODELS.build(cfg)
    assert '\n' not in str(info.value)


def test_early_layers_stated_once():
    """The neck's ``early_layers`` sets the backbone's ``out_indices``;
    a backbone that disagrees is refused in one line."""
    cfg = tiny_cfg()
    del cfg['backbone']['out_indices']
    model = MODELS.build(cfg)
    assert model.backbone.out_indices == [2, 3]  # block 3 (1-based), last
    cfg = tiny_cfg()
    cfg['neck']['early_layers'] = 2
    with pytest.raises(ValueError, match='early_layers=2'):
        MODELS.build(cfg)
