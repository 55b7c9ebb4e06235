# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""mmbeitv2 <-> timm ``Beit``: same features and logits (fp32, 1e-5)."""
import pytest
import torch

from mmbeitv2.checkpoint.timm_keys import (mmbeitv2_key_to_timm,
                                           timm_to_mmbeitv2)
from ._models import (PRETRAIN, TINY, backbone, classifier, export_model,
                      logits, save_model, save_pretrain, tool)

timm = pytest.importorskip('timm')
from timm.models.beit import Beit  # noqa: E402


def _tiny_timm(num_classes=0, **kwargs):
    return Beit(img_size=32, patch_size=8, embed_dim=32, depth=2,
                num_heads=2, mlp_ratio=2., num_classes=num_classes,
                use_rel_pos_bias=True, use_abs_pos_emb=False,
                init_values=0.1, **kwargs).eval()


def _load(path):
    return torch.load(path, weights_only=True)


def test_key_names():
    assert mmbeitv2_key_to_timm('layers.3.ffn.layers.0.0.weight') == \
        'blocks.3.mlp.fc1.weight'
    assert mmbeitv2_key_to_timm('ln2.bias') == 'fc_norm.bias'
    assert mmbeitv2_key_to_timm('layers.0.attn.relative_position_index') \
        is None
    with pytest.raises(KeyError):
        mmbeitv2_key_to_timm('rel_pos_bias.relative_position_bias_table')


def test_pretrain_backbone_to_timm(tmp_path, monkeypatch):
    vit = backbone(**PRETRAIN)
    src = save_pretrain(str(tmp_path / 'pre.pth'), vit)
    dst = str(tmp_path / 'timm.pth')
    exporter = tool('mmbeitv2_to_timm')
    # a tiny model has no timm name: build it for the exporter's check
    monkeypatch.setattr(timm, 'create_model',
                        lambda *a, num_classes, **k: _tiny_timm(num_classes))
    info = exporter.export(src, dst, 'tiny')
    assert info['kind'] == 'pretrain'
    assert info['added'] == ['fc_norm.weight', 'fc_norm.bias']
    t = _tiny_timm()
    t.load_state_dict(_load(dst), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(t.forward_features(x), vit(x)[0],
                                   atol=1e-5, rtol=1e-5)
        # the pooled feature = a fresh ln2 on our mean patch token
        mean = vit(x)[0][:, 1:].mean(1)
        torch.testing.assert_close(
            t.forward_head(t.forward_features(x), pre_logits=True),
            torch.nn.functional.layer_norm(mean, (32, ), eps=1e-6),
            atol=1e-5, rtol=1e-5)


def test_classifier_round_trip(tmp_path, monkeypatch):
    model = classifier(layer_scale_init_value=0.1)
    src = save_model(str(tmp_path / 'ft.pth'), model)
    dst = str(tmp_path / 'timm.safetensors')
    monkeypatch.setattr(timm, 'create_model',
                        lambda *a, num_classes, **k: _tiny_timm(num_classes))
    info = tool('mmbeitv2_to_timm').export(src, dst, 'tiny')
    assert info['num_classes'] == 5 and not info['added']
    from safetensors.torch import load_file
    t = _tiny_timm(num_classes=5)
    t.load_state_dict(load_file(dst), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(t(x), logits(model, x), atol=1e-5,
                                   rtol=1e-5)
    # and back: timm -> mmbeitv2 gives the same logits again
    back = str(tmp_path / 'back.pth')
    tool('timm_to_mmbeitv2').main([dst, back])
    model2 = classifier()
    model2.load_state_dict(_load(back)['state_dict'], strict=True)
    with torch.no_grad():
        torch.testing.assert_close(logits(model2, x), t(x), atol=1e-5,
                                   rtol=1e-5)


def test_timm_torch_file_to_mmbeitv2(tmp_path):
    """A timm state dict saved with torch.save (timm's keys look like the
    official fine-tuning layout; the tool must not convert them twice)."""
    t = _tiny_timm(num_classes=5)
    for p in t.parameters():
        torch.nn.init.normal_(p, std=0.1)
    src, back = str(tmp_path / 'timm.pth'), str(tmp_path / 'back.pth')
    torch.save(t.state_dict(), src)
    tool('timm_to_mmbeitv2').main([src, back])
    model = classifier()
    model.load_state_dict(_load(back)['state_dict'], strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(logits(model, x), t(x), atol=1e-5,
                                   rtol=1e-5)


def test_timm_with_final_norm_to_mmbeitv2():
    """A [CLS]-pooled timm model (``norm``, no ``fc_norm``) -> ``ln1``."""
    t = _tiny_timm(num_classes=3, global_pool='token')
    for p in t.parameters():
        torch.nn.init.normal_(p, std=0.1)
    sd = timm_to_mmbeitv2(t.state_dict())
    model = classifier(num_classes=3, out_type='cls_token', final_norm=True)
    model.load_state_dict(sd, strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(logits(model, x), t(x), atol=1e-5,
                                   rtol=1e-5)


@pytest.mark.integration
def test_vit_base_with_its_timm_name(tmp_path):
    """``beitv2_base_patch16_224`` as timm names it, random weights."""
    model = classifier(arch='base', img_size=224, patch_size=16,
                       num_classes=1000)
    dst = export_model(tmp_path, model, 'mmbeitv2_to_timm', 'timm.pth')
    t = timm.create_model('beitv2_base_patch16_224', pretrained=False,
                          num_classes=1000).eval()
    t.load_state_dict(_load(dst), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(t(x), logits(model, x), atol=1e-5,
                                   rtol=1e-5)


@pytest.mark.integration
def test_wrong_model_name_is_one_line(tmp_path, capsys):
    vit = backbone(**PRETRAIN)
    src = save_pretrain(str(tmp_path / 'pre.pth'), vit)
    exporter = tool('mmbeitv2_to_timm')
    from mmbeitv2.cli import run_cli
    code = run_cli(lambda: exporter.main(
        [src, str(tmp_path / 'x.pth'), '--model',
         'beitv2_base_patch16_224']))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'pick the matching --model' in err
    assert str(TINY['embed_dims']) in err  # names what the file holds
