# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The launcher scripts parse and use torchrun / srun as in mmpretrain."""
import os
import os.path as osp

import pytest
from subprocess_utils import run
from tiny_run_utils import REPO


@pytest.mark.parametrize('name,launcher,tool', [
    ('dist_train.sh', 'torchrun', 'train.py'),
    ('slurm_train.sh', 'srun', 'train.py'),
])
def test_launch_script(name, launcher, tool):
    path = osp.join(REPO, 'tools', name)
    run(['bash', '-n', path], check=True, timeout=60)
    with open(path) as f:
        script = f.read()
    assert launcher in script and tool in script
    assert 'torch.distributed.launch' not in script  # deprecated
    assert ('--launcher pytorch' in script
            or '--launcher="slurm"' in script)


@pytest.mark.parametrize('script,args,launcher,expected', [
    ('dist_train.sh', ['CFG', '2', '--amp'], 'torchrun',
     ['--nproc_per_node=2', 'tools/train.py', 'CFG', '--launcher',
      'pytorch', '--amp']),
    ('dist_test.sh', ['CFG', 'CKPT', '2', '--out', 'x.pkl'], 'torchrun',
     ['--nproc_per_node=2', 'tools/test.py', 'CFG', '--launcher', 'pytorch',
      'CKPT', '--out', 'x.pkl']),
    ('slurm_train.sh', ['PART', 'JOB', 'CFG', 'WD', '--amp'], 'srun',
     ['-p', 'PART', 'tools/train.py', 'CFG', '--work-dir=WD',
      '--launcher=slurm', '--amp']),
    ('slurm_test.sh', ['PART', 'JOB', 'CFG', 'CKPT', '--out', 'x.pkl'],
     'srun', ['-p', 'PART', 'tools/test.py', 'CFG', 'CKPT',
              '--launcher=slurm', '--out', 'x.pkl']),
])
def test_launch_command_lines(tmp_path, script, args, launcher, expected):
    """Run each script with a stand-in launcher on PATH that records its
    arguments: the tool, the config, the launcher flag and the user's
    options arrive in order."""
    record = tmp_path / 'args.txt'
    fake = tmp_path / launcher
    fake.write_text(f'#!/usr/bin/env bash\necho "$@" > {record}\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}')
    run(['bash', osp.join(REPO, 'tools', script), *args], check=True,
        env=env, capture_output=True, timeout=60)
    got = record.read_text().split()
    got = [a.split('tools/', 1)[-1] if a.endswith('.py') else a
           for a in got]
    got = ['tools/' + a if a.endswith('.py') else a for a in got]
    positions = [got.index(e) for e in expected]
    assert positions == sorted(positions), got
