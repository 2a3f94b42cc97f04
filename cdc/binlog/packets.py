"""MySQL protocol packets cut out of the bytes a binlog connection delivers. Pure.

A packet is a 3-byte little-endian length, a sequence number, then that many bytes; a
payload of 16 MiB - 1 bytes or more continues in the next packet. Reading the socket in large
chunks and cutting packets here costs a fraction of reading each packet with two small reads
through the driver, and hands on everything a chunk held at once.
"""

from __future__ import annotations

from collections.abc import Iterator

MAX_PACKET = 0xFFFFFF


class PacketSequenceError(ValueError):
    """A packet arrived out of sequence: the stream is damaged or was cut."""


class PacketSplitter:
    def __init__(self, next_sequence: int) -> None:
        self._buffer = bytearray()
        self._sequence = next_sequence
        self._parts: list[bytes] = []

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Append bytes read from the connection; yield every payload now complete."""
        buffer = self._buffer
        buffer += chunk
        position, end = 0, len(buffer)
        try:
            while end - position >= 4:
                size = buffer[position] | buffer[position + 1] << 8 | buffer[position + 2] << 16
                if end - position - 4 < size:
                    break
                sequence = buffer[position + 3]
                if sequence != self._sequence:
                    raise PacketSequenceError(
                        f"packet {sequence} arrived where {self._sequence} was due")
                self._sequence = (sequence + 1) & 0xFF
                start = position + 4
                position = start + size
                payload = bytes(buffer[start:position])
                if size == MAX_PACKET:
                    self._parts.append(payload)
                    continue
                if self._parts:
                    payload = b"".join((*self._parts, payload))
                    self._parts.clear()
                yield payload
        finally:
            del buffer[:position]

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole payload."""
        return len(self._buffer) + sum(len(part) for part in self._parts)
