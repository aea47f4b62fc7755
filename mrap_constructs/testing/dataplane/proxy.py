"""How unchanged application code reaches the emulator, MRAP requests included: an HTTP(S) proxy on 127.0.0.1
with a local CA, and one block of environment variables (``export_lines``) that sends everything through it.

botocore sends a request whose ``Bucket`` is an MRAP ARN to ``https://{alias}.accesspoint.s3-global.amazonaws.com``
whatever ``endpoint_url`` / ``AWS_ENDPOINT_URL`` says (the S3 endpoint rule set has no custom-endpoint branch for
MRAP ARNs). It honours ``HTTPS_PROXY`` (a ``CONNECT`` tunnel) and ``AWS_CA_BUNDLE``. The proxy:

- answers ``CONNECT *.accesspoint.s3-global.amazonaws.com:443`` with ``200``, terminates the tunnel's TLS with a
  certificate from ``LocalCA`` and hands each HTTP request inside to ``DataPlane.handle``;
- forwards plain proxied requests (``HTTP_PROXY``) for the emulator's own port on a loopback host
  (``127.0.0.1``, ``localhost``, and s3control's account-prefixed ``123456789012.127.0.0.1``, which does not
  resolve) to the emulator;
- refuses (``403``) every other ``CONNECT`` and plain request: nothing leaves the machine.

The block sets ``AWS_ENDPOINT_URL`` (the emulator) and both ``HTTPS_PROXY`` and ``HTTP_PROXY`` (this proxy), and
unsets ``NO_PROXY`` (``UNSET``): botocore decides a client's proxies once, from the client's endpoint URL
(``botocore.endpoint.EndpointCreator._get_proxies``), so an S3 client whose endpoint were in ``NO_PROXY`` would send
its MRAP requests unproxied, to the internet. With every request proxied, a program cannot reach anything but the
emulator, even if it sets its own endpoint, and the client resolves no host name but ``127.0.0.1`` (a proxied
request names its target to the proxy instead of looking it up).

The client Region (where the caller runs, which routing measures from) is the proxy URL's user name, with any
password: ``HTTPS_PROXY=http://eu-west-1:client-region@127.0.0.1:PORT``. botocore sends ``Proxy-Authorization`` on
the ``CONNECT`` only when the URL has both a user name and a password
(``botocore.httpsession.ProxyConfiguration.proxy_headers_for``), so ``http://eu-west-1@...`` would be ignored. A
request carries no other trace of the client's configured Region (an MRAP request is SigV4A-signed for
``X-Amz-Region-Set: *``), and where a caller is, is a fact of its network path, which the proxy is. Without a
user name, the proxy's default applies (``MRAP_EMULATOR_CLIENT_REGION`` when it started, or ``set_client_region``).
A Region the emulator cannot place gets an S3 error (``InvalidArgument``) naming the variable.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import shlex
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from mrap_constructs.testing.dataplane.gateway import GLOBAL_SUFFIX, DataPlane
from mrap_constructs.testing.dataplane.local_ca import LocalCA
from mrap_constructs.testing.emulator import SHUTDOWN_POLL_SECONDS

#: The password of the proxy URL: any non-empty one makes botocore send the user name (the client Region).
PROXY_PASSWORD = "client-region"
#: What the block unsets before it exports: settings that would send requests past the proxy (``NO_PROXY``,
#: lower-case proxy variables, which win over upper-case ones in ``urllib.request.getproxies_environment``),
#: per-service endpoints and endpoint switches, and credentials or profiles that would act elsewhere than the
#: emulator's files (environment credentials win over the shared credentials file).
UNSET = ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy", "all_proxy", "ALL_PROXY",
         "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_S3_CONTROL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM",
         "AWS_ENDPOINT_URL_CLOUDFORMATION", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
         "AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
         "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
         "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
#: The shared-credentials profile of each account: ``mrap-ACCOUNT``.
PROFILE_PREFIX = "mrap-"
_LOOPBACK = ("127.0.0.1", "localhost")


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

    def parse_request(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` for the usual ``METHOD TARGET HTTP/1.x`` line, with the header
        block read line by line instead of through ``email.parser`` (a tenth of the proxy's time per request):
        the same names and values (``compat32``: value left-stripped of blanks, line end removed; folded lines
        kept as sent), the same limits (65536 bytes a line, 100 headers: ``431``), the same ``Connection`` and
        ``Expect: 100-continue`` handling. Any other request line takes the standard library's path."""
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0") or words[1].startswith("//"):
            return super().parse_request()
        self.requestline = line
        self.command, self.path, self.request_version = words
        self.close_connection = words[2] == "HTTP/1.0"
        headers = http.client.HTTPMessage()
        name, value = "", ""
        count = 0
        while True:
            raw = self.rfile.readline(65537)
            if len(raw) > 65536:
                self.send_error(431, "Line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            text = raw.decode("iso-8859-1")
            if text[0] in " \t" and name:  # an obsolete folded line continues the previous value
                value += text
                continue
            if name:
                headers[name] = value.rstrip("\r\n")
            name, sep, value = text.partition(":")
            if not sep:
                self.send_error(400, "Bad header line")
                return False
            value = value.lstrip(" \t")
            count += 1
            if count > 100:
                self.send_error(431, "Too many headers")
                return False
        if name:
            headers[name] = value.rstrip("\r\n")
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if headers.get("Expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()}
        response = self.server.plane.handle(self.command, self.headers.get("Host", self.tunnel_host), self.path,
                                            headers, body, client_region=self.client_region,
                                            client_region_source=self.server.region_source)
        # send_response_only: send_response would add a second Date (and Server) header to the emulator's, which
        # clients that read Date (clock-skew correction) reject ("Invalid time value" in the CDK CLI).
        self.send_response_only(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if not any(name.lower() == "date" for name, _ in response.headers):
            self.send_header("Date", self.date_time_string())
        if not any(name.lower() == "content-length" for name, _ in response.headers):
            self.send_header("Content-Length", str(len(response.body)))
        # One write for the head and the body (end_headers without its flush): one TLS record, one segment.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(response.body)
        self.flush_headers()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _refuse(self) -> None:
        self.send_response(403, "Forbidden: the MRAP emulator proxy only serves *" + GLOBAL_SUFFIX
                           + " and the emulator")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _plain(self) -> None:
        """A plain proxied request (``HTTP_PROXY``): to the emulator if it names it, else refused."""
        target = urllib.parse.urlsplit(self.path)
        host = (target.hostname or "").lower()
        emulator = urllib.parse.urlsplit(self.server.plane.endpoint_url)
        local = host in _LOOPBACK or host.endswith(tuple(f".{name}" for name in _LOOPBACK))
        if target.scheme != "http" or not local or (target.port or 80) != emulator.port:
            self.server.refused.append(self.path)
            return self._refuse()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=300)
        try:
            # The absolute form as received: the emulator (moto's server) reads the host from it.
            connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in ("proxy-authorization", "proxy-connection", "connection", "keep-alive",
                                        "transfer-encoding", "content-length"):
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            upstream = connection.getresponse()
            data = upstream.read()
            self.send_response_only(upstream.status, upstream.reason)  # the emulator's Date, not a second one
            for name, value in upstream.getheaders():
                if name.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                    self.send_header(name, value)
            if upstream.getheader("Date") is None:
                self.send_header("Date", self.date_time_string())
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(data)))
            elif upstream.getheader("Content-Length"):
                self.send_header("Content-Length", upstream.getheader("Content-Length"))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            connection.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _plain

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        host = host.lower()
        if port != "443" or not host.endswith(GLOBAL_SUFFIX):
            self.server.refused.append(self.path)
            return self._refuse()
        client_region = None
        auth = self.headers.get("Proxy-Authorization", "")
        if auth.lower().startswith("basic "):
            user = base64.b64decode(auth.split(" ", 1)[1]).decode(errors="replace").split(":", 1)[0]
            client_region = urllib.parse.unquote(user) or None
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
        with self.server.count_lock:
            self.server.tunnels += 1
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
        self._server.tunnels = 0
        self._server.count_lock = threading.Lock()
        self.port = self._server.server_address[1]
        self._server.region_source = (f"the user name of HTTPS_PROXY (http://REGION:{PROXY_PASSWORD}@127.0.0.1:"
                                      f"{self.port})")
        self._thread: threading.Thread | None = None

    @property
    def tunnels(self) -> int:
        """How many TLS tunnels (``CONNECT``s to an MRAP host) the proxy has opened: a client keeps one per
        connection alive for all its requests (HTTP/1.1 inside the tunnel)."""
        return self._server.tunnels

    @property
    def refused(self) -> list[str]:
        """Every ``CONNECT`` target the proxy refused."""
        return self._server.refused

    def start(self) -> MrapProxy:
        # Stop within SHUTDOWN_POLL_SECONDS of stop(), not socketserver's default half second.
        self._thread = threading.Thread(target=self._server.serve_forever, name="mrap-proxy", daemon=True,
                                        kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS})
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the CA's directory (certificate, credentials files)."""
        self._server.shutdown()
        self._server.server_close()
        self.ca.close()

    def __enter__(self) -> MrapProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def proxy_url(self, client_region: str | None = None) -> str:
        """``http://REGION:PASSWORD@127.0.0.1:PORT`` (``REGION`` is the client Region), or without a Region."""
        user = f"{urllib.parse.quote(client_region, safe='')}:{PROXY_PASSWORD}@" if client_region else ""
        return f"http://{user}127.0.0.1:{self.port}"

    def write_profiles(self, credentials: Mapping[str, Mapping[str, str]], account: str, region: str,
                       endpoint_url: str | None = None) -> tuple[str, str]:
        """Write ``credentials`` and ``config`` into the CA's directory (removed with it): a ``mrap-ACCOUNT``
        profile per account of ``credentials`` (``{account: {"AWS_ACCESS_KEY_ID": ...}}``), and ``default`` acting
        in ``account``. Returns (credentials file, config file)."""
        keys = {"AWS_ACCESS_KEY_ID": "aws_access_key_id", "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
                "AWS_SESSION_TOKEN": "aws_session_token"}
        creds, config = [], []
        for name, acting in [("default", account), *((f"{PROFILE_PREFIX}{a}", a) for a in credentials)]:
            creds += [f"[{name}]", *(f"{keys[k]} = {v}" for k, v in credentials[acting].items() if k in keys), ""]
            config += [f"[{name}]" if name == "default" else f"[profile {name}]", f"region = {region}",
                       *([f"endpoint_url = {endpoint_url}"] if endpoint_url else []),
                       f"ca_bundle = {self.ca.bundle}", ""]
        credentials_file, config_file = self.ca.directory / "credentials", self.ca.directory / "config"
        credentials_file.touch(mode=0o600)
        credentials_file.write_text("\n".join(creds))
        config_file.write_text("\n".join(config))
        return str(credentials_file), str(config_file)

    def environment(self, endpoint_url: str | None = None, client_region: str | None = None, *,
                    credentials: Mapping[str, Mapping[str, str]] | None = None,
                    account: str | None = None) -> dict[str, str]:
        """The variables an unchanged AWS program needs to use the emulator, MRAP requests included (to apply
        after unsetting ``UNSET``).

        Args:
            endpoint_url: the emulator (``AWS_ENDPOINT_URL``). Default: none (control-plane clients then need one).
            client_region: the client Region (in the proxy URL, and the SDK's Region). Default: the proxy's.
            credentials: ``{account: {"AWS_ACCESS_KEY_ID": ..., ...}}`` of every account a program may act in (a
                ``mrap-ACCOUNT`` profile each). Default: moto's default account with ``testing``.
            account: the account the ``default`` profile acts in. Default: the first of ``credentials``.
        """
        region = client_region or self.plane.client_region
        credentials = credentials or {"123456789012": {"AWS_ACCESS_KEY_ID": "testing",
                                                       "AWS_SECRET_ACCESS_KEY": "testing"}}
        account = account or next(iter(credentials))
        credentials_file, config_file = self.write_profiles(credentials, account, region, endpoint_url)
        emulator = urllib.parse.urlsplit(endpoint_url) if endpoint_url else None
        return {
            **({"AWS_ENDPOINT_URL": endpoint_url,
                # The CDK CLI builds the template URL it hands CloudFormation from this endpoint; moto reads the
                # bucket from the path only for a localhost URL (moto.cloudformation.utils.get_stack_from_s3_url).
                "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"http://localhost:{emulator.port}"} if emulator else {}),
            "HTTPS_PROXY": self.proxy_url(region),
            "HTTP_PROXY": self.proxy_url(region),
            "AWS_CA_BUNDLE": str(self.ca.bundle),
            "AWS_SHARED_CREDENTIALS_FILE": credentials_file,
            "AWS_CONFIG_FILE": config_file,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            **({"MRAP_EMULATOR_ENDPOINT_URL": endpoint_url} if endpoint_url else {}),
        }

    def export_lines(self, endpoint_url: str | None = None, client_region: str | None = None, *,
                     credentials: Mapping[str, Mapping[str, str]] | None = None,
                     account: str | None = None) -> list[str]:
        """One block for a shell: ``unset`` of ``UNSET``, then ``export NAME=value`` of ``environment``."""
        env = self.environment(endpoint_url, client_region, credentials=credentials, account=account)
        return ["unset " + " ".join(UNSET), *(f"export {name}={shlex.quote(value)}" for name, value in env.items())]


def apply_block(lines: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` after the ``unset``/``export`` lines of a printed block, in order (what a shell pasting them does;
    other lines, comments included, are skipped)."""
    env = dict(environ)
    for line in lines:
        words = shlex.split(line, comments=True)
        if not words or words[0] not in ("unset", "export"):
            continue
        for word in words[1:]:
            if words[0] == "unset":
                env.pop(word, None)
            else:
                name, _, value = word.partition("=")
                env[name] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
