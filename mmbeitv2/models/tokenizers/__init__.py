# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .codebook_utils import codebook_stats, cosine_kmeans, l2norm
from .norm_ema_quantizer import NormEMAVectorQuantizer
from .teachers import (BaseTeacher, CachedTeacher, CenteredTeacher,
                       CLIPTeacher, EfficientNetLite0Teacher, TimmViTTeacher,
                       build_teacher)
from .teacher_features import TeacherFeatures
from .vqkd import VQKDTokenizer
from mmbeitv2.checkpoint.tokenizer_loading import load_tokenizer_checkpoint

__all__ = [
    'NormEMAVectorQuantizer', 'VQKDTokenizer', 'TeacherFeatures',
    'BaseTeacher', 'CachedTeacher', 'CenteredTeacher', 'CLIPTeacher',
    'TimmViTTeacher', 'EfficientNetLite0Teacher', 'build_teacher',
    'codebook_stats', 'cosine_kmeans', 'l2norm', 'load_tokenizer_checkpoint'
]
