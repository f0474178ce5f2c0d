"""Ports the tests and benchmarks pick stay out of the kernel's ephemeral range, where an
outgoing connection could take one between the check and its use (seen on a fresh clone)."""

from __future__ import annotations

import socket
from pathlib import Path

from shared.launcher import PICKED_PORTS, free_port


def ephemeral() -> range:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return range(int(low), int(high) + 1)


def test_picked_ports_lie_below_the_ephemeral_range() -> None:
    assert PICKED_PORTS.stop <= ephemeral().start


def test_a_picked_port_and_its_neighbours_are_free_and_outside_the_range() -> None:
    for _ in range(20):
        first = free_port(width=6)
        assert first in PICKED_PORTS and first + 5 not in ephemeral()
        for port in range(first, first + 6):
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
