# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Inference API: build a model, extract features, classify, tokenize."""
from .inference import classify, extract_features
from .model import get_model, list_models, register_model_index
from .tokens import get_tokens, load_tokenizer

__all__ = [
    'get_model', 'list_models', 'register_model_index', 'extract_features',
    'classify', 'get_tokens', 'load_tokenizer'
]
