# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``.ci/run`` runs exactly the README's test command."""
import os
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _readme_command(section: str) -> str:
    with open(osp.join(REPO, 'README.md')) as f:
        readme = f.read()
    body = readme.split(f'## {section}\n', 1)[1].split('\n## ', 1)[0]
    blocks = re.findall(r'```bash\n(.*?)```', body, flags=re.S)
    assert len(blocks) >= 1, f'no bash block in README "{section}"'
    lines = [ln for ln in blocks[0].splitlines() if ln.strip()]
    assert len(lines) == 1, 'the command must be one line'
    return lines[0]


def test_ci_runs_the_readme_test_command():
    command = _readme_command('Run the tests')
    assert 'pytest tests' in command and 'pip install' in command
    path = osp.join(REPO, '.ci', 'run')
    with open(path) as f:
        script = f.read()
    assert script.startswith('#!/usr/bin/env bash\n')
    assert 'set -euo pipefail' in script
    assert command in script.splitlines()
    assert os.access(path, os.X_OK)


def test_readme_main_job_command_is_self_contained():
    command = _readme_command('Quick start (main job)')
    assert command.startswith('python3.11 -m venv .venv')
    assert 'pip install -r requirements.txt -e .' in command
