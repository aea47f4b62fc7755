"""How unchanged application code reaches the data plane: an HTTPS proxy on 127.0.0.1 with a local CA.

botocore sends a request whose ``Bucket`` is an MRAP ARN to ``https://{alias}.accesspoint.s3-global.amazonaws.com``
whatever ``endpoint_url`` says (the S3 endpoint rule set has no custom-endpoint branch for MRAP ARNs). It honours
``HTTPS_PROXY`` (a ``CONNECT`` tunnel) and ``AWS_CA_BUNDLE``, so with the lines of ``export_lines()`` in its
environment, a program written for AWS reaches the emulator:

- ``CONNECT *.accesspoint.s3-global.amazonaws.com:443`` is answered ``200``, the tunnel's TLS is terminated with a
  certificate from ``LocalCA`` and each HTTP request inside goes to ``DataPlane.handle``;
- every other ``CONNECT`` and every plain proxied request is refused (``403``): nothing leaves the machine;
- ``NO_PROXY=127.0.0.1,localhost`` keeps clients given the emulator's own endpoint off the proxy.

``AWS_ENDPOINT_URL`` is *not* among the lines: botocore decides a client's proxies once, from the client's endpoint
URL, so an S3 client whose endpoint is ``http://127.0.0.1`` (in ``NO_PROXY``) would send its MRAP requests straight
to the internet, unproxied. S3 requests to anything but an MRAP (and other services' requests) are refused by the
proxy instead; point those clients at ``endpoint_url`` explicitly.

The client Region of a connection is the proxy user name, ``HTTPS_PROXY=http://eu-west-1@127.0.0.1:PORT`` (botocore
sends it as ``Proxy-Authorization`` on the ``CONNECT``); without one, the proxy's default
(``MRAP_EMULATOR_CLIENT_REGION`` when it started, or ``set_client_region``).
"""

from __future__ import annotations

import base64
import http.server
import socket
import socketserver
import threading
from typing import Any

from mrap_constructs.testing.dataplane.gateway import GLOBAL_SUFFIX, DataPlane
from mrap_constructs.testing.dataplane.local_ca import LocalCA


def _read_chunked(rfile: Any) -> bytes:
    body = bytearray()
    while True:
        size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        body += rfile.read(size)
        rfile.readline()


class _TunnelHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 requests inside a terminated CONNECT tunnel."""

    protocol_version = "HTTP/1.1"

    def __init__(self, sock: Any, address: Any, server: Any, host: str, client_region: str | None) -> None:
        self.tunnel_host = host
        self.client_region = client_region
        super().__init__(sock, address, server)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()}
        response = self.server.plane.handle(self.command, self.headers.get("Host", self.tunnel_host), self.path,
                                            headers, body, client_region=self.client_region)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in response.headers):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _refuse(self) -> None:
        self.send_response(403, "Forbidden: the MRAP emulator proxy only serves *" + GLOBAL_SUFFIX)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _refuse

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        host = host.lower()
        if port != "443" or not host.endswith(GLOBAL_SUFFIX):
            self.server.refused.append(self.path)
            return self._refuse()
        client_region = None
        auth = self.headers.get("Proxy-Authorization", "")
        if auth.lower().startswith("basic "):
            user = base64.b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)[0]
            client_region = user or None
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        # A response goes out as two writes (headers, then body): with Nagle on, the body waits for the client's
        # delayed ACK of the headers (~40 ms per GET on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.server.ca.server_context(host).wrap_socket(self.connection, server_side=True)
        except (OSError, ValueError):
            self.close_connection = True
            return
        try:
            _TunnelHandler(tls, self.client_address, self.server, host, client_region)
        except (OSError, ValueError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass
        self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class MrapProxy:
    """The HTTPS proxy in front of a ``DataPlane``, on 127.0.0.1.

    Args:
        plane: the data plane the tunnelled requests go to.
        port: TCP port. Default: a free one.
        ca: the CA whose certificates the proxy presents. Default: a new ``LocalCA``.

    Example:
        with MrapProxy(plane) as proxy:
            env = {**os.environ, **proxy.environment(endpoint_url)}
    """

    def __init__(self, plane: DataPlane, *, port: int = 0, ca: LocalCA | None = None) -> None:
        self.plane = plane
        self.ca = ca or LocalCA()
        self._server = _Server(("127.0.0.1", port), _ProxyHandler)
        self._server.plane = plane
        self._server.ca = self.ca
        self._server.refused = []
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def refused(self) -> list[str]:
        """Every ``CONNECT`` target the proxy refused."""
        return self._server.refused

    def start(self) -> MrapProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="mrap-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> MrapProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def proxy_url(self, client_region: str | None = None) -> str:
        user = f"{client_region}@" if client_region else ""
        return f"http://{user}127.0.0.1:{self.port}"

    def environment(self, endpoint_url: str | None = None, client_region: str | None = None,
                    access_key_id: str = "testing", secret_access_key: str = "testing") -> dict[str, str]:
        """The variables an unchanged AWS program needs to use the emulator, MRAP requests included."""
        region = client_region or self.plane.client_region
        return {
            "HTTPS_PROXY": self.proxy_url(region),
            "NO_PROXY": "127.0.0.1,localhost",
            "AWS_CA_BUNDLE": str(self.ca.bundle),
            "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MRAP_EMULATOR_CLIENT_REGION": region,
            **({"MRAP_EMULATOR_ENDPOINT_URL": endpoint_url} if endpoint_url else {}),
        }

    def export_lines(self, endpoint_url: str, client_region: str | None = None) -> list[str]:
        """``export NAME=value`` lines for a shell (``environment`` as text)."""
        import shlex

        return [f"export {name}={shlex.quote(value)}"
                for name, value in self.environment(endpoint_url, client_region).items()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
