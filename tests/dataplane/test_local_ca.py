"""The data plane's throwaway CA: leaf certificates name the host in the SAN only, and no key outlives the CA."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

import pytest
from cryptography import x509

from mrap_constructs.testing.dataplane.local_ca import LocalCA

#: The host of an MRAP with AWS's alias shape, and a longer one than X.509's 64-character Common Name admits
#: (RFC 5280 ub-common-name): the leaf must not depend on the host's length.
HOSTS = ["mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com",
         "long-nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-name-0123456789.mrap.accesspoint.s3-global.amazonaws.com"]


@pytest.mark.parametrize("host", HOSTS)
def test_the_leaf_names_its_host_in_the_san_only(host):
    ca = LocalCA()
    try:
        cert_file, key_file = ca.issue(host)
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        assert list(cert.subject) == []
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        # RFC 5280 4.2.1.6: with an empty subject, the subjectAltName extension is critical.
        assert san.critical and san.value.get_values_for_type(x509.DNSName) == [host]
        # A client that trusts only the CA completes the handshake for exactly that host (it checks the SAN).
        client = ssl.create_default_context(cafile=str(ca.bundle))
        assert _handshake(ca.server_context(host), client, host) is None
        assert "mismatch" in str(_handshake(ca.server_context(host), client, "other." + host))
    finally:
        ca.close()


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, host: str) -> Exception | None:
    """A TLS handshake in memory (no sockets); the client's error, if any."""
    bios = [ssl.MemoryBIO() for _ in range(4)]
    ends = [server.wrap_bio(bios[0], bios[1], server_side=True), client.wrap_bio(bios[2], bios[3],
                                                                                 server_hostname=host)]
    done = [False, False]
    for _ in range(20):
        for index, end in enumerate(ends):
            try:
                end.do_handshake()
                done[index] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as err:
                if index == 1:
                    return err
        bios[2].write(bios[1].read())
        bios[0].write(bios[3].read())
        if all(done):
            return None
    raise AssertionError("handshake did not finish")


def test_a_leaf_key_is_on_disk_only_while_it_loads():
    ca = LocalCA()
    try:
        ca.server_context(HOSTS[0])
        assert sorted(p.name for p in ca.directory.iterdir()) == ["ca.pem"]
        assert oct(ca.directory.stat().st_mode & 0o777) == "0o700"
    finally:
        ca.close()
    assert not ca.directory.exists()


def test_the_folder_goes_when_an_error_unwinds_the_data_plane():
    from mrap_constructs.testing.dataplane.gateway import DataPlane
    from mrap_constructs.testing.dataplane.proxy import MrapProxy

    proxy = MrapProxy(DataPlane(endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(RuntimeError), proxy:
        proxy.environment("http://127.0.0.1:9")  # writes the credentials files too
        raise RuntimeError("boom")
    assert not proxy.ca.directory.exists()


def test_the_folder_goes_when_the_interpreter_exits_without_close():
    program = "from mrap_constructs.testing.dataplane.local_ca import LocalCA\nca = LocalCA()\n" \
              "ca.server_context('a.mrap.accesspoint.s3-global.amazonaws.com')\nprint(ca.directory)\n"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    directory = result.stdout.strip()
    assert directory and not os.path.exists(directory)
