# Copyright (c) mmbeitv2 contributors. All rights reserved.
