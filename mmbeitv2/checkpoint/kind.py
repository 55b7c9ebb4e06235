# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""What kind of checkpoint a file is, in words, for error messages.

Told apart by the top-level prefixes of the state dict's keys, which are
the attribute names of the model that wrote it (mmengine saves
``model.state_dict()`` of the unwrapped model), so a message can say
"this is a VQ-KD tokenizer checkpoint" where mmengine only reports a
missing prefix or a different number of optimizer parameter groups.
"""
from typing import Iterable

from .io import unwrap_state_dict
from .layouts import detect_layout

_OFFICIAL = {
    'official_vqkd': 'an official VQ-KD tokenizer checkpoint',
    'official_pretrain': 'an official BEiT v2 pretraining checkpoint',
    'official_finetune': 'an official BEiT v2 / timm fine-tuned ViT',
}


# (top-level prefixes the model has, what it is), the first match wins.
_KINDS = (
    (('encoder', 'decoder', 'quantize'), 'a VQ-KD tokenizer checkpoint'),
    (('backbone', 'target_generator'), 'a BEiT v2 pretraining checkpoint'),
    (('backbone', 'decode_head'), 'a segmentation checkpoint'),
    (('backbone', 'head'), 'a classifier (fine-tuned) checkpoint'),
    (('backbone', ), 'a checkpoint with a backbone'),
    (('patch_embed', 'layers'), 'a bare ViT backbone state dict'),
)


def describe_keys(keys: Iterable[str]) -> str:
    """The kind of model whose ``state_dict()`` has ``keys``.

    Args:
        keys (Iterable[str]): State-dict keys without a DDP ``module.``
            prefix.

    Returns:
        str: e.g. ``'a VQ-KD tokenizer checkpoint (keys encoder.,
        decoder., quantize., ...)'``.
    """
    prefixes = sorted({k.split('.', 1)[0] for k in keys})
    kind, shown = 'a checkpoint of another model', prefixes[:4]
    for required, name in _KINDS:
        if set(required) <= set(prefixes):
            kind, shown = name, list(required)
            break
    listed = ', '.join(f'{p}.' for p in shown) or 'none'
    more = ', ...' if len(prefixes) > len(shown) else ''
    return f'{kind} (keys {listed}{more})'


def describe_checkpoint(ckpt: object) -> str:
    """The kind of a loaded checkpoint (see :func:`describe_keys`).

    Args:
        ckpt (object): What ``torch.load`` returned.

    Returns:
        str: The description.
    """
    if not isinstance(ckpt, dict):
        return f'a {type(ckpt).__name__}, not a state dict'
    state_dict, _ = unwrap_state_dict(ckpt)
    layout = detect_layout(state_dict)
    if layout in _OFFICIAL:
        return _OFFICIAL[layout]
    return describe_keys(state_dict)
