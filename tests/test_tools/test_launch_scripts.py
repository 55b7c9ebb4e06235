# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The launcher scripts parse and use torchrun / srun as in mmpretrain."""
import os.path as osp
import subprocess

import pytest
from tiny_run_utils import REPO


@pytest.mark.parametrize('name,launcher,tool', [
    ('dist_train.sh', 'torchrun', 'train.py'),
    ('dist_test.sh', 'torchrun', 'test.py'),
    ('slurm_train.sh', 'srun', 'train.py'),
    ('slurm_test.sh', 'srun', 'test.py'),
])
def test_launch_script(name, launcher, tool):
    path = osp.join(REPO, 'tools', name)
    subprocess.run(['bash', '-n', path], check=True)
    with open(path) as f:
        script = f.read()
    assert launcher in script and tool in script
    assert 'torch.distributed.launch' not in script  # deprecated
    assert ('--launcher pytorch' in script
            or '--launcher="slurm"' in script)
