"""Packets cut out of a binlog connection's bytes, however the reads fall."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdc.binlog.packets import MAX_PACKET, PacketSequenceError, PacketSplitter


def frame(payload: bytes, sequence: int) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([sequence & 0xFF]) + payload


@given(payloads=st.lists(st.binary(max_size=300), max_size=30), data=st.data())
def test_payloads_come_out_whole_and_in_order_whatever_the_chunks(
        payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(frame(p, 7 + i) for i, p in enumerate(payloads))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    splitter = PacketSplitter(7)
    out: list[bytes] = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        out += splitter.feed(stream[previous:cut])
        previous = cut
    assert out == payloads
    assert splitter.pending == 0


def test_a_payload_of_16_mib_or_more_continues_in_the_next_packets() -> None:
    big = bytes(range(256)) * (MAX_PACKET // 256) + b"xyz" * 100
    parts = [big[:MAX_PACKET], big[MAX_PACKET:]]
    stream = frame(parts[0], 0) + frame(parts[1], 1) + frame(b"next", 2)
    splitter = PacketSplitter(0)
    out = list(splitter.feed(stream[:1000])) + list(splitter.feed(stream[1000:]))
    assert out == [big, b"next"]


def test_exactly_16_mib_minus_one_ends_with_an_empty_packet() -> None:
    exact = b"a" * MAX_PACKET
    splitter = PacketSplitter(3)
    assert list(splitter.feed(frame(exact, 3) + frame(b"", 4))) == [exact]


def test_a_packet_out_of_sequence_is_an_error_not_a_guess() -> None:
    splitter = PacketSplitter(1)
    with pytest.raises(PacketSequenceError, match="packet 5 arrived where 2 was due"):
        list(splitter.feed(frame(b"a", 1) + frame(b"b", 5)))
