# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Subprocesses for tests, killed with everything they started on a
timeout.

``subprocess.run(timeout=...)`` kills only the direct child: the workers
of ``torchrun`` (and the ``tools/train.py`` a ``bash`` launcher starts)
survive it and keep running, holding ports and CPU, after their test
failed. Every command here starts in a session (and process group) of its
own, and a timeout, or an interrupted test, kills that group and every
descendant (also those that started a session of their own).
"""
import os
import signal
import subprocess
from typing import Dict, List, Optional, Sequence, Set

import pytest

__all__ = ['run', 'popen', 'kill_group']

# How long to wait for the pipes to close once the group is killed.
_REAP_S = 30


def _children() -> Dict[int, List[int]]:
    """Parent pid -> child pids, from /proc (empty where there is none)."""
    children: Dict[int, List[int]] = {}
    if not os.path.isdir('/proc'):
        return children
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                # "pid (comm) state ppid ...": comm may hold spaces
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(pid: int) -> Set[int]:
    """``pid`` and its descendants."""
    children, tree, todo = _children(), {pid}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return tree


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s process group and every descendant of ``proc``.

    ``proc`` must have been started with ``start_new_session=True`` (as
    :func:`run` and :func:`popen` do): its pid is then the group id. The
    descendants count too because a launcher may move its children out of
    the group: torchrun starts every worker with ``start_new_session=True``
    (torch.distributed.elastic's SubprocessHandler). The tree is frozen
    with SIGSTOP first (a stopped process starts no more children), then
    killed. Call it before ``proc`` is reaped (``wait``/``poll`` returned):
    until then the pid, so the group id, is not reused.
    """
    stopped: Set[int] = set()
    while True:
        new = _tree(proc.pid) - stopped
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        stopped |= new
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # the group already ended
        pass
    for pid in stopped:
        _signal(pid, signal.SIGKILL)


def popen(cmd: Sequence[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` in a new session (its own process group), stdin
    from ``/dev/null`` unless given; stop it with :func:`kill_group`."""
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    return subprocess.Popen(cmd, start_new_session=True, **kwargs)


def run(cmd: Sequence[str],
        *,
        timeout: float,
        check: bool = False,
        capture_output: bool = False,
        input: Optional[str] = None,
        **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run`` whose timeout kills the whole process tree.

    Args:
        cmd (Sequence[str]): The command.
        timeout (float): Seconds; required, so no test can hang forever.
        check (bool): Raise ``CalledProcessError`` on a non-zero exit.
        capture_output (bool): Capture stdout and stderr.
        input (str, optional): Sent to stdin (else stdin is /dev/null
            unless ``stdin`` is given).
        **kwargs: Passed to ``subprocess.Popen`` (``cwd``, ``env``,
            ``text``, ``stdout``...).

    Returns:
        subprocess.CompletedProcess: As ``subprocess.run`` returns.

    Raises:
        pytest.fail.Exception: The command ran past ``timeout``; the message
            names it and ends with its output.
    """
    if capture_output:
        kwargs['stdout'] = kwargs['stderr'] = subprocess.PIPE
    if input is not None:
        kwargs['stdin'] = subprocess.PIPE
    with popen(cmd, **kwargs) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            # The leader may have exited while a grandchild keeps the pipes
            # open; communicate() has not reaped it, so the group id is
            # still ours to kill.
            kill_group(proc)
            try:
                out, err = proc.communicate(timeout=_REAP_S)
            except subprocess.TimeoutExpired:  # a process left the tree
                out = err = ''
            tail = ''.join(
                s if isinstance(s, str) else s.decode(errors='replace')
                for s in (out or '', err or ''))[-3000:]
            pytest.fail(
                f'{" ".join(map(str, cmd))} ran past {timeout} s; its '
                f'process group was killed. Output tail:\n{tail}',
                pytrace=False)
        except BaseException:  # an interrupt, a failure in communicate
            kill_group(proc)
            raise
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check:
        result.check_returncode()
    return result
