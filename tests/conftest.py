"""Shared test fixtures: no test may touch the network (quick mode: ../conftest.py)."""

import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Make every outgoing connection fail at once, as on a machine offline."""

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
