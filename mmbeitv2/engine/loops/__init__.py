# Copyright (c) mmbeitv2 contributors. All rights reserved.
from .exact_resume_loops import (ExactResumeEpochBasedTrainLoop,
                                 ExactResumeIterBasedTrainLoop)

__all__ = ['ExactResumeEpochBasedTrainLoop', 'ExactResumeIterBasedTrainLoop']
