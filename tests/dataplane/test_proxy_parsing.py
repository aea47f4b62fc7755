"""The tunnel's request parser (``proxy._TunnelHandler.parse_request``) reads what the standard library's
``BaseHTTPRequestHandler.parse_request`` reads (RFC 9112 message syntax: request line, header fields, obsolete line
folding kept as sent; ``Connection`` and ``Expect: 100-continue``), only faster."""

from __future__ import annotations

import http.server
import io

import pytest

from mrap_constructs.testing.dataplane.proxy import _TunnelHandler


class _Standard(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass


def _parse(cls, raw: bytes):
    handler = cls.__new__(cls)
    line, _, rest = raw.partition(b"\r\n")
    handler.raw_requestline = line + b"\r\n"
    handler.rfile, handler.wfile = io.BytesIO(rest), io.BytesIO()
    handler.client_address = ("127.0.0.1", 0)
    handler.request_version = "HTTP/1.1"
    ok = handler.parse_request()
    headers = list(handler.headers.items()) if ok else None
    return ok, headers, handler.close_connection, handler.wfile.getvalue(), handler.rfile.read()


@pytest.mark.parametrize("raw", [
    b"PUT /k?x=1 HTTP/1.1\r\nHost: a.mrap.accesspoint.s3-global.amazonaws.com\r\nX-Amz-Date: 1\r\n\r\nbody",
    b"GET /k HTTP/1.1\r\nA:  spaced  \r\nA: twice\r\nB:\r\n\r\n",
    b"GET /k HTTP/1.1\r\nFolded: one\r\n two\r\n\tthree\r\nNext: x\r\n\r\n",
    b"GET /k HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET /k HTTP/1.0\r\nHost: h\r\n\r\n",
    b"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
    b"GET /k HTTP/1.1\r\nLF-only: yes\n\n",
    b"GET //twice HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /k HTTP/2.0\r\n\r\n",
])
def test_parses_as_the_standard_library_does(raw):
    assert _parse(_TunnelHandler, raw) == _parse(_Standard, raw)


def test_too_many_headers_is_431():
    raw = b"GET /k HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(101)) + b"\r\n"
    ok, _, _, sent, _ = _parse(_TunnelHandler, raw)
    assert not ok and sent.startswith(b"HTTP/1.1 431")
