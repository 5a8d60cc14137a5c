"""Shared test set-up: quick and headless modes on; no test may touch the network."""

import os
import socket

import pytest

os.environ.setdefault("GANCOURSE_QUICK", "1")
os.environ.setdefault("GANCOURSE_HEADLESS", "1")  # live panels train, then return


@pytest.fixture
def no_network(monkeypatch):
    """Make every outgoing connection fail at once, as on a machine offline."""

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
