# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2 <-> Hugging Face BEiT: same features and logits (fp32, 1e-5),
and ``from_pretrained`` finds no missing or unexpected keys."""
import pytest
import torch

from mmbeitv2.checkpoint.hf_keys import hf_to_mmbeitv2, mmbeitv2_to_hf
from ._models import (PRETRAIN, backbone, classifier, export_model, logits,
                      save_pretrain, tool)

transformers = pytest.importorskip('transformers')


def _from_pretrained(cls, path):
    model, info = cls.from_pretrained(path, output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys'], info
    return model.eval()


def test_qkv_split_and_join():
    vit = backbone(**PRETRAIN)
    sd = {k: v for k, v in vit.state_dict().items() if k != 'mask_token'}
    hf = mmbeitv2_to_hf(sd)
    assert 'layers.0.attention.k_proj.bias' not in hf
    assert 'shared_position_bias.relative_position_bias_table' in hf
    back = hf_to_mmbeitv2(hf)
    for k, v in sd.items():
        if not k.endswith('relative_position_index'):
            assert torch.equal(back['backbone.' + k], v), k


@pytest.mark.parametrize('layout', ['pretrain', 'abs_pos'])
def test_backbone_to_hf_and_back(tmp_path, layout):
    kwargs = dict(PRETRAIN) if layout == 'pretrain' else dict(
        out_type='raw', use_abs_pos_emb=True, use_rel_pos_bias=False,
        use_shared_rel_pos_bias=False, layer_scale_init_value=0.)
    vit = backbone(**kwargs)
    src = save_pretrain(str(tmp_path / 'pre.pth'), vit)
    out = str(tmp_path / 'hf')
    tool('mmbeitv2_to_hf').main(
        [src, out] + (['--num-heads', '2'] if layout == 'abs_pos' else []))
    hf = _from_pretrained(transformers.BeitModel, out)
    assert hf.config.use_shared_relative_position_bias is (
        layout == 'pretrain')
    assert hf.config.use_mean_pooling and hf.config.layer_norm_eps == 1e-6
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        res = hf(pixel_values=x)
        ours = vit(x)[0]
        torch.testing.assert_close(res.last_hidden_state, ours, atol=1e-5,
                                   rtol=1e-5)
        torch.testing.assert_close(
            res.pooler_output,
            torch.nn.functional.layer_norm(ours[:, 1:].mean(1), (32, ),
                                           eps=1e-6),
            atol=1e-5, rtol=1e-5)
    # and back
    back = str(tmp_path / 'back.pth')
    tool('hf_to_mmbeitv2').main([out, back])
    sd = torch.load(back, weights_only=True)['state_dict']
    vit2 = backbone(**kwargs)
    torch.manual_seed(1)  # other weights than vit's: the load must set them
    for p in vit2.parameters():
        torch.nn.init.normal_(p, std=0.1)
    with torch.no_grad():
        assert not torch.allclose(vit2(x)[0], ours, atol=1e-2)
    kept = {k[len('backbone.'):]: v for k, v in sd.items()
            if not k.startswith('backbone.ln2.')}
    missing, unexpected = vit2.load_state_dict(kept, strict=False)
    assert not unexpected, unexpected
    # Hugging Face's BeitModel keeps no mask token; index buffers are
    # rebuilt from the window size
    assert set(missing) <= {'mask_token'} | {
        k for k in vit2.state_dict() if k.endswith('relative_position_index')
    }, missing
    with torch.no_grad():
        torch.testing.assert_close(vit2(x)[0], ours, atol=1e-5, rtol=1e-5)


def test_classifier_to_hf_and_back(tmp_path):
    model = classifier()
    out = export_model(tmp_path, model, 'mmbeitv2_to_hf', 'hf')
    hf = _from_pretrained(transformers.BeitForImageClassification, out)
    assert not hf.config.use_shared_relative_position_bias
    assert hf.config.use_relative_position_bias
    proc = transformers.AutoImageProcessor.from_pretrained(out)
    assert proc.crop_size == dict(height=32, width=32)
    assert list(proc.image_mean) == [0.485, 0.456, 0.406]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(hf(pixel_values=x).logits,
                                   logits(model, x), atol=1e-5, rtol=1e-5)
        # the pooled feature of BeitModel = our avg_featmap
        torch.testing.assert_close(
            hf.beit(pixel_values=x).pooler_output, model.backbone(x)[-1],
            atol=1e-5, rtol=1e-5)
    back = str(tmp_path / 'back.pth')
    tool('hf_to_mmbeitv2').main([out, back])
    model2 = classifier()
    model2.load_state_dict(
        torch.load(back, weights_only=True)['state_dict'], strict=True)
    with torch.no_grad():
        torch.testing.assert_close(logits(model2, x), logits(model, x),
                                   atol=1e-5, rtol=1e-5)


def test_cls_pooling_with_final_norm(tmp_path):
    model = classifier(out_type='cls_token', final_norm=True)
    out = export_model(tmp_path, model, 'mmbeitv2_to_hf', 'hf')
    hf = _from_pretrained(transformers.BeitForImageClassification, out)
    assert not hf.config.use_mean_pooling
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(hf(pixel_values=x).logits,
                                   logits(model, x), atol=1e-5, rtol=1e-5)


@pytest.mark.integration
def test_vit_base_classifier(tmp_path):
    model = classifier(arch='base', img_size=224, patch_size=16,
                       num_classes=10)
    out = export_model(tmp_path, model, 'mmbeitv2_to_hf', 'hf')
    hf = _from_pretrained(transformers.BeitForImageClassification, out)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(hf(pixel_values=x).logits,
                                   logits(model, x), atol=1e-5, rtol=1e-5)


# transformers 4.x / the Hub's BEiT files: the classic module names of
# modeling_beit.py, written out here (not taken from hf_keys) so that the
# import is checked against the layout, not against its own table.
_CLASSIC = (
    ('attention.q_proj.', 'attention.attention.query.'),
    ('attention.k_proj.', 'attention.attention.key.'),
    ('attention.v_proj.', 'attention.attention.value.'),
    ('attention.o_proj.', 'attention.output.dense.'),
    ('relative_position_bias.', 'attention.attention.relative_position_bias.'),
    ('mlp.fc1.', 'intermediate.dense.'),
    ('mlp.fc2.', 'output.dense.'),
)


def _to_classic(key: str) -> str:
    prefix = ''
    if key.startswith('beit.'):
        prefix, key = 'beit.', key[len('beit.'):]
    if key.startswith('shared_position_bias.'):
        return prefix + 'encoder.relative_position_bias.' + key[len(
            'shared_position_bias.'):]
    if key.startswith('layers.'):
        _, i, rest = key.split('.', 2)
        for new, old in _CLASSIC:
            if rest.startswith(new):
                rest = old + rest[len(new):]
                break
        return f'{prefix}encoder.layer.{i}.{rest}'
    return prefix + key


@pytest.mark.parametrize('kind', ['classifier', 'pretrain'])
def test_classic_hf_layout_imports(kind):
    """A state dict in the classic Hugging Face layout (``beit.encoder.
    layer.i.attention.attention.query``, ``intermediate.dense``, the shared
    table under ``encoder.relative_position_bias``) imports to the same
    weights as the modern one."""
    if kind == 'classifier':
        model = classifier()
        sd = model.state_dict()
        head = {'weight': sd['head.fc.weight'], 'bias': sd['head.fc.bias']}
        bb = {k[len('backbone.'):]: v for k, v in sd.items()
              if k.startswith('backbone.')}
        modern = {'beit.' + k: v for k, v in mmbeitv2_to_hf(bb).items()}
        modern.update({'classifier.' + k: v for k, v in head.items()})
    else:
        vit = backbone(**PRETRAIN)
        modern = mmbeitv2_to_hf(
            {k: v for k, v in vit.state_dict().items() if k != 'mask_token'})
    classic = {_to_classic(k): v for k, v in modern.items()}
    assert any('attention.attention.query.weight' in k for k in classic)
    assert any('intermediate.dense' in k for k in classic)
    if kind == 'pretrain':
        assert 'encoder.relative_position_bias.relative_position_bias_table' \
            in classic
    ours = hf_to_mmbeitv2(classic)
    expected = hf_to_mmbeitv2(modern)
    assert list(ours) == list(expected)
    for k, v in expected.items():
        assert torch.equal(ours[k], v), k
    if kind == 'classifier':
        model2 = classifier()
        torch.manual_seed(1)
        for p in model2.parameters():
            torch.nn.init.normal_(p, std=0.1)
        missing, unexpected = model2.load_state_dict(ours, strict=False)
        assert not unexpected and all(
            k.endswith('relative_position_index') for k in missing), missing
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            torch.testing.assert_close(logits(model2, x), logits(model, x),
                                       atol=1e-5, rtol=1e-5)
