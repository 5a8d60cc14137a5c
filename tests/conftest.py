"""Shared test fixtures: no test may touch the network (quick mode: ../conftest.py)."""

import socket

import pytest

from gancourse import runtime


@pytest.fixture
def no_network(monkeypatch):
    """Make every outgoing connection fail at once, as on a machine offline."""

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for tiny models: faster, and fair to a busy 2-core machine."""
    with runtime.one_thread():
        yield


@pytest.fixture(scope="module")
def mnist():
    """The shipped mnist-5k training split."""
    from gancourse.data import load_dataset

    return load_dataset("mnist-5k")


@pytest.fixture(scope="module")
def judge():
    """The shipped classifier of mnist-5k digits."""
    from gancourse.metrics import load_classifier

    return load_classifier("mnist-5k", device="cpu")


@pytest.fixture(scope="module")
def held_out():
    """The 1000 mnist-5k test digits, never trained on."""
    from gancourse.data import load_dataset

    return load_dataset("mnist-5k", split="test")
