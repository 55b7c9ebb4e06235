# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""The session-wide network guard of tests/conftest.py: connects to public
addresses fail at once, loopback works, subprocesses are offline."""
import os
import socket
import sys
import threading
import time

import pytest
from subprocess_utils import run

# TEST-NET-3 (RFC 5737): never routed, so without the guard a connect would
# hang until its timeout instead of failing.
PUBLIC = ('203.0.113.1', 80)
# conftest's NetworkAccessError is a RuntimeError (conftest is not imported
# here: pytest owns that module).
REFUSED = RuntimeError
OFFLINE_ENV = dict(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1',
                   HF_DATASETS_OFFLINE='1')


@pytest.mark.parametrize('method', ['connect', 'connect_ex'])
def test_public_address_refused_immediately(method):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        start = time.monotonic()
        with pytest.raises(REFUSED,
                           match=r"must not use the network.*203\.0\.113\.1"):
            getattr(sock, method)(PUBLIC)
        assert time.monotonic() - start < 0.5


def test_create_connection_and_ipv6_refused():
    with pytest.raises(REFUSED, match='203.0.113.1'):
        socket.create_connection(PUBLIC, timeout=5)
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6) as sock, pytest.raises(
                REFUSED, match='2001:db8::1'):
            sock.connect(('2001:db8::1', 80))  # documentation prefix


@pytest.mark.parametrize('host', ['127.0.0.1', 'localhost'])
def test_loopback_server_and_client(host):
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen(1)
        port = server.getsockname()[1]

        def echo():
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(16).upper())

        thread = threading.Thread(target=echo, daemon=True)
        thread.start()
        with socket.create_connection((host, port), timeout=10) as client:
            client.sendall(b'ping')
            assert client.recv(16) == b'PING'
        thread.join(10)


def test_unix_socket_allowed(tmp_path):
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        a.sendall(b'x')
        assert b.recv(1) == b'x'
    path = str(tmp_path / 's')
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX) as client:
            assert client.connect_ex(path) == 0


def test_subprocesses_get_the_offline_switches():
    for key, value in OFFLINE_ENV.items():
        assert os.environ[key] == value
    code = 'import os; print(os.environ.get("HF_HUB_OFFLINE"))'
    out = run([sys.executable, '-c', code], capture_output=True, text=True,
              timeout=60, check=True)
    assert out.stdout.strip() == '1'
