# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""VQ-KD through ``tools/train.py --launcher pytorch`` in two processes
(torchrun, gloo on CPU): each rank reads other images, and the codebook
(k-means init from rank 0, EMA statistics all-reduced) ends identical on
both ranks."""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch

from subprocess_utils import run
from tiny_run_utils import REPO, tool_env, write_vqkd_config

# Saves each rank's codebook and the images it read (tmp dir, not the
# package).
DUMP_HOOK = textwrap.dedent('''
    import os.path as osp
    import torch
    from mmengine.dist import get_rank
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class DumpCodebookHook(Hook):
        def before_run(self, runner):
            self.paths = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.paths += [s.img_path for s in data_batch['data_samples']]

        def after_run(self, runner):
            q = runner.model.module.quantize if hasattr(
                runner.model, 'module') else runner.model.quantize
            torch.save(dict(codebook=q.embedding.weight.clone(),
                            initted=q.embedding.initted.clone(),
                            paths=self.paths),
                       osp.join(runner.work_dir, f'rank{get_rank()}.pt'))
''')


@pytest.mark.integration
def test_vqkd_two_processes_share_one_codebook(tmp_path):
    tmp = str(tmp_path)
    config = write_vqkd_config(tmp, max_iters=4)
    with open(osp.join(tmp, 'dump_codebook_hook.py'), 'w') as f:
        f.write(DUMP_HOOK)
    with open(config, 'a') as f:
        f.write("custom_hooks = [dict(type='DumpCodebookHook')]\n"
                "custom_imports = dict(imports=['dump_codebook_hook'], "
                'allow_failed_imports=False)\n'
                "train_dataloader['sampler'] = dict(type='DefaultSampler', "
                'shuffle=True)\n')
    work_dir = osp.join(tmp, 'work')
    # --standalone: torchrun's rendezvous on a port the OS picks
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
           '--nproc_per_node=2', osp.join(REPO, 'tools', 'train.py'),
           config, '--launcher', 'pytorch', '--work-dir', work_dir]
    proc = run(cmd, timeout=300, cwd=tmp, env=tool_env(tmp), text=True,
               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out
    ranks = [torch.load(osp.join(work_dir, f'rank{r}.pt'), weights_only=True)
             for r in (0, 1)]
    # 4 iterations x batch 2 per rank over 8 images: each epoch (4 images
    # a rank) splits the data set into two disjoint halves
    assert len(ranks[0]['paths']) == len(ranks[1]['paths']) == 8
    first = [set(r['paths'][:4]) for r in ranks]
    assert not first[0] & first[1] and len(first[0] | first[1]) == 8
    assert ranks[0]['initted'].item() == ranks[1]['initted'].item() == 1
    code0, code1 = ranks[0]['codebook'], ranks[1]['codebook']
    assert torch.equal(code0, code1)
    # a trained codebook: unit rows, not all the same
    torch.testing.assert_close(code0.norm(dim=1), torch.ones(16))
    assert torch.linalg.matrix_rank(code0) >= 4
    # the checkpoint (written by rank 0) holds both ranks' random states,
    # gathered where every rank calls save_checkpoint
    from mmbeitv2.checkpoint import load_checkpoint_file
    ckpt = load_checkpoint_file(osp.join(work_dir, 'iter_4.pth'))
    assert len(ckpt['exact_resume']['rng']) == 2
