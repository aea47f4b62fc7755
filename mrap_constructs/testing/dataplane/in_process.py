"""The emulated S3 called in-process: the data plane's hop to the routed bucket without a socket.

The gateway used to forward each MRAP request over HTTP to moto's server on 127.0.0.1, whose werkzeug front door
answers ``Connection: close`` (a new connection and a new thread per request) and dispatches every request under
one lock after looking the service up again. ``InProcessS3`` calls the same WSGI application moto's server builds
for S3 (``moto.moto_server.werkzeug_app.create_backend_app("s3")``: moto's Flask app around ``S3Response``, over the
same backends, so every patch of ``moto_patches`` / ``moto_hooks`` / ``strict`` applies as before) with the WSGI
environ moto's request handler would have built for the same bytes (``MotoRequestHandler.make_environ``: werkzeug's
environ, plus the original spelling of ``x-amz-meta-*`` names holding an underscore). The request is the one the
HTTP hop sent: path-style, re-signed with SigV4 for the bucket's Region.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

LOG = logging.getLogger(__name__)


def _wsgi(text: str) -> str:
    """PEP 3333's "native string" of ``text`` (UTF-8 bytes read as latin-1), as werkzeug's server passes it."""
    return text.encode().decode("latin-1")


class InProcessS3:
    """moto's S3 WSGI application, called in this process.

    Args:
        endpoint_url: the emulator's URL (``http://127.0.0.1:PORT``): the Host the request names, as on the wire.

    Example:
        s3 = InProcessS3("http://127.0.0.1:5000")
        status, headers, body = s3.request("GET", "/bucket/key", "", {"Authorization": ...}, b"")
    """

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        parts = urllib.parse.urlsplit(endpoint_url)
        self.netloc = parts.netloc
        self.host = parts.hostname or "127.0.0.1"
        self.port = str(parts.port or 80)
        self._app: Any = None
        self._lock = threading.Lock()

    def app(self) -> Any:
        """The Flask app moto's server dispatches S3 requests to (built once)."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from moto.moto_server.werkzeug_app import create_backend_app

                    self._app = create_backend_app("s3")
        return self._app

    def environ(self, method: str, raw_path: str, query: str, headers: Mapping[str, str],
                body: bytes) -> dict[str, Any]:
        """The WSGI environ werkzeug's server (with moto's handler) builds for this request."""
        from moto.core.request import (
            PRESERVED_HEADER_NAMES_ENVIRON_KEY,
            environ_key_for_header,
            should_preserve_original_header_name,
        )

        target = raw_path + (f"?{query}" if query else "")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "SERVER_SOFTWARE": "mrap-dataplane", "REQUEST_METHOD": method, "SCRIPT_NAME": "",
            "PATH_INFO": _wsgi(urllib.parse.unquote(raw_path)), "QUERY_STRING": _wsgi(query),
            "REQUEST_URI": _wsgi(target), "RAW_URI": _wsgi(target), "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": 0,
            "SERVER_NAME": self.host, "SERVER_PORT": self.port, "SERVER_PROTOCOL": "HTTP/1.1",
        }
        preserved_names: dict[str, str] = {}
        preserved: dict[str, list[str]] = {}
        for name, value in headers.items():
            value = value.replace("\r\n", "")
            if "_" in name:  # werkzeug drops these; moto keeps x-amz-meta-* spelled as sent
                if should_preserve_original_header_name(name):
                    key = environ_key_for_header(name)
                    preserved_names.setdefault(key, name)
                    preserved.setdefault(key, []).append(value)
                continue
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        for key, values in preserved.items():
            if key not in environ:  # an underscored name never stands in for a dashed one
                environ[key] = ",".join(values)
            else:
                preserved_names.pop(key, None)
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved_names
        environ["HTTP_HOST"] = self.netloc
        environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def request(self, method: str, raw_path: str, query: str, headers: Mapping[str, str],
                body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) of moto's S3 for one request; ``raw_path`` percent-encoded as on the wire."""
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), response_headers
            return lambda data: captured.setdefault("written", []).append(data)

        try:
            result: Iterable[bytes] = self.app()(self.environ(method, raw_path, query, headers, body),
                                                 start_response)
        except Exception:
            # moto's Flask app runs with debug on, so an error in a handler propagates; werkzeug's server answers it
            # with its 500 page (and logs it), which is what the client got over the HTTP hop.
            from werkzeug.exceptions import InternalServerError

            LOG.exception("moto raised serving %s %s", method, raw_path)
            return 500, [("Content-Type", "text/html; charset=utf-8")], InternalServerError().get_body().encode()
        try:
            chunks = list(result)
            data = b"".join([*captured.get("written", []), *chunks])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return captured["status"], list(captured["headers"]), data
