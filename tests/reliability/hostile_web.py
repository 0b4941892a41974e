"""Hostile answers for the loopback web site: a gzip bomb, an endless body, a dripping body."""

from __future__ import annotations

import struct
import time
import zlib
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any

MiB = 1024 * 1024


@cache
def gzip_bomb(inflated_mib: int = 2048) -> bytes:
    """A valid one-member gzip stream of `inflated_mib` MiB of zeros (2 GiB: about 2 MB).

    Built without compressing it all: deflate output for 1 MiB of zeros after a full flush
    (which resets the dictionary) is the same bytes every time, so it is repeated, and the
    trailer's CRC is composed in GF(2) instead of read over 2 GiB.
    """
    zeros = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = b"\x03\x00"  # an empty final fixed-Huffman block
    crc = _crc_of_zeros(inflated_mib * MiB)
    size = (inflated_mib * MiB) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + block * inflated_mib + final + struct.pack("<II", crc, size)


def _crc_of_zeros(length: int) -> int:
    """zlib.crc32(bytes(length)), by doubling with crc32_combine (zlib's GF(2) method)."""
    assert length % MiB == 0
    crc, blocks, unit, unit_len = 0, length // MiB, zlib.crc32(bytes(MiB)), MiB
    while blocks:  # unit: the CRC of unit_len zeros, doubled at each bit of the block count
        if blocks & 1:
            crc = _combine(crc, unit, unit_len)
        unit = _combine(unit, unit, unit_len)
        unit_len *= 2
        blocks >>= 1
    return crc


def _times(matrix: list[int], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _square(matrix: list[int]) -> list[int]:
    return [_times(matrix, row) for row in matrix]


def _combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from crc(A), crc(B) and len(B) (zlib's crc32_combine)."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _square(odd)
    odd = _square(even)
    while True:
        even = _square(odd)
        if len2 & 1:
            crc1 = _times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _square(even)
        if len2 & 1:
            crc1 = _times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


class Sent:
    """Bytes a responder wrote before the client went away, and whether it went away."""

    def __init__(self) -> None:
        self.bytes = 0
        self.client_left = False


def _write(handler: BaseHTTPRequestHandler, data: Any, sent: Sent) -> bool:
    try:
        handler.wfile.write(data)
        handler.wfile.flush()
    except OSError:
        sent.client_left = True
        return False
    sent.bytes += len(data)
    return True


def serve_bomb(sent: Sent) -> Any:
    """A responder sending the 2 GiB gzip bomb as `Content-Encoding: gzip` HTML."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        bomb = memoryview(gzip_bomb())
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        for start in range(0, len(bomb), 64 * 1024):
            if not _write(handler, bomb[start : start + 64 * 1024], sent):
                return

    return respond


def serve_endless(sent: Sent, stop_after_mib: int = 64) -> Any:
    """A responder sending a chunked text body with no end (it stops at `stop_after_mib`)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.protocol_version = "HTTP/1.1"  # chunked bodies are HTTP/1.1
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        data = (b"spam " * (64 * 1024 // 5 + 1))[: 64 * 1024]
        chunk = b"%x\r\n%s\r\n" % (len(data), data)
        for _ in range(stop_after_mib * 16):
            if not _write(handler, chunk, sent):
                return
        _write(handler, b"0\r\n\r\n", sent)

    return respond


def serve_drip(sent: Sent, every_s: float = 2.0, for_s: float = 20.0) -> Any:
    """A responder dripping one byte of an HTML body every `every_s` (it gives up at `for_s`)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.flush()
        ends = time.monotonic() + for_s
        while time.monotonic() < ends and _write(handler, b"<", sent):
            time.sleep(every_s)

    return respond
