# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .feature_regression_head import FeatureRegressionHead
from .mim_head import MIMHead
from .per_layer_linear_cls_head import PerLayerLinearClsHead

__all__ = ['FeatureRegressionHead', 'MIMHead', 'PerLayerLinearClsHead']
