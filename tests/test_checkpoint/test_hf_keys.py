# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2 <-> Hugging Face BEiT: same features and logits (fp32, 1e-5),
and ``from_pretrained`` finds no missing or unexpected keys."""
import pytest
import torch

from mmbeitv2.checkpoint.hf_keys import hf_to_mmbeitv2, mmbeitv2_to_hf
from ._models import (PRETRAIN, backbone, classifier, logits,
                      save_model, save_pretrain, tool)

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
    kept = {k[len('backbone.'):]: v for k, v in sd.items()
            if not k.startswith('backbone.ln2.')}
    vit2.load_state_dict(kept, strict=False)
    with torch.no_grad():
        torch.testing.assert_close(vit2(x)[0], ours, atol=1e-5, rtol=1e-5)


def test_classifier_to_hf_and_back(tmp_path):
    model = classifier()
    src = save_model(str(tmp_path / 'ft.pth'), model)
    out = str(tmp_path / 'hf')
    tool('mmbeitv2_to_hf').main([src, out])
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
    src = save_model(str(tmp_path / 'ft.pth'), model)
    out = str(tmp_path / 'hf')
    tool('mmbeitv2_to_hf').main([src, out])
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
    src = save_model(str(tmp_path / 'ft.pth'), model)
    out = str(tmp_path / 'hf')
    tool('mmbeitv2_to_hf').main([src, out])
    hf = _from_pretrained(transformers.BeitForImageClassification, out)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(hf(pixel_values=x).logits,
                                   logits(model, x), atol=1e-5, rtol=1e-5)
