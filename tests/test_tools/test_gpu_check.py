# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""``benchmarks/gpu_check.sh`` is ready for a GPU: the script
parses, what it calls exists and takes the options it passes, and the
python part runs (on CPU, tiny)."""
import importlib
import os.path as osp
import re
import shlex
import sys
from unittest import mock

import pytest
from subprocess_utils import run


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'benchmarks', 'gpu_check.sh')


def _tool(name: str):
    return importlib.import_module(f'benchmarks.{name}')


def _python_calls() -> list:
    """``[module, args...]`` of every ``"$PYTHON" -m benchmarks.X`` line."""
    with open(SCRIPT) as f:
        text = f.read().replace('\\\n', ' ')
    calls = []
    for line in text.splitlines():
        match = re.search(r'"\$PYTHON" -m (benchmarks\.\S+)(.*?)(\||$)',
                          line)
        if match:
            args = shlex.split(match.group(2).replace('"$OUT', '"/tmp/o'))
            args = [a for a in args if a != '2>&1']  # the shell's, not ours
            calls.append([match.group(1)] + args)
    return calls


def test_script_parses_and_its_calls_exist():
    run(['bash', '-n', SCRIPT], check=True, timeout=60)
    calls = _python_calls()
    assert [c[0] for c in calls] == [
        'benchmarks.gpu_check', 'benchmarks.benchmark_train',
        'benchmarks.benchmark_train'  # the table rows, one call each
    ]
    for module, *args in calls:
        script = osp.join(*module.split('.')) + '.py'
        assert osp.isfile(osp.join(REPO, script)), script
    # benchmark_train.py accepts the options the script passes.
    bench = _tool('benchmark_train')
    with mock.patch.object(sys, 'argv', ['benchmark_train.py'] + calls[1][1:]):
        args = bench.parse_args()
    assert (args.batch_size, args.dtype, args.device) == (64, 'bf16', 'cuda')
    # every row of the table parses, with the options the loop adds
    with open(SCRIPT) as f:
        rows = f.read().split("<<'ROWS'\n", 1)[1].split('\nROWS', 1)[0]
    parsed = []
    for row in rows.splitlines():
        name, *opts = row.split()
        with mock.patch.object(sys, 'argv', ['benchmark_train.py', *opts,
                                             '--device', 'cuda']):
            parsed.append((name, bench.parse_args()))
    assert [(a.stage, a.arch, a.dtype) for _, a in parsed] == [
        ('pretrain', 'base', 'fp32'), ('pretrain', 'base', 'bf16'),
        ('pretrain', 'small', 'bf16'), ('finetune', 'base', 'bf16'),
        ('vqkd', 'base', 'bf16'), ('pretrain', 'large', 'bf16')]
    assert parsed[1][1].compile and parsed[-1][1].with_cp


@pytest.mark.integration
def test_python_checks_run_on_cpu():
    """The pretraining and attention checks at tiny sizes on CPU (the VQ-KD
    check builds the ViT-B/16 CLIP teacher: left to the GPU run)."""
    import torch
    tool = _tool('gpu_check')
    from mmbeitv2.utils import register_all_modules
    register_all_modules()
    cpu = torch.device('cpu')
    pre = tool.check_bf16('pretrain', tool.TINY, 64, 2, cpu)
    assert pre['targets_identical_with_fp32_tokenizer'] and \
        pre['grads_finite']
    assert 0.9 <= pre['targets_agreement'] <= 1.0
    assert pre['loss_rel_diff']['loss_mim'] < 5e-3
    sdpa = tool.check_sdpa(cpu, embed_dims=64, num_heads=4, tokens=17)
    assert sdpa['fp32']['max_rel_diff']['out'] < 1e-4
    assert sdpa['bf16']['max_rel_diff']['out'] < 5e-2
