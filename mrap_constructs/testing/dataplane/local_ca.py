"""A throwaway certificate authority for the data-plane proxy: it issues the certificate the proxy presents for
``{alias}.accesspoint.s3-global.amazonaws.com``, and ``AWS_CA_BUNDLE`` points botocore at it.

Nothing is installed system-wide: the CA's key lives in memory, its certificate in a temporary directory (``mrap-ca-*``,
mode 0700), and only processes given ``AWS_CA_BUNDLE`` trust it (RFC 5280 profile: CA with ``basicConstraints`` and
``keyCertSign``; leaves with ``subjectAltName``, ``serverAuth`` and key identifiers, which OpenSSL's strict mode
requires). A leaf names its host in the ``subjectAltName`` only, with an empty subject (RFC 5280 4.2.1.6: the
extension is then critical): TLS clients match the SAN (RFC 6125), and a Common Name is capped at 64 characters
(RFC 5280 ``ub-common-name``), which an MRAP host of a long alias would exceed. A leaf's private key is on disk only
while ``ssl`` loads it (``load_cert_chain`` reads files), then deleted; ``close()`` removes the directory, and so does
the interpreter's exit if nobody called it.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import threading
import weakref
from pathlib import Path


class LocalCA:
    """Issue TLS server certificates for host names, signed by a CA created on the spot.

    Args:
        directory: where ``ca.pem`` (and, for a moment, each leaf's files) are written. Default: a new temporary
            directory, removed by ``close()`` (or at interpreter exit).

    Example:
        ca = LocalCA()
        context = ca.server_context("abc.mrap.accesspoint.s3-global.amazonaws.com")
        os.environ["AWS_CA_BUNDLE"] = str(ca.bundle)
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.directory = Path(directory or tempfile.mkdtemp(prefix="mrap-ca-"))
        # A directory of our own is removed by close(), or at the latest when the interpreter exits normally.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.directory), True) if directory is None \
            else None
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mrap emulator local CA")])
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                      .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                      .not_valid_before(now - datetime.timedelta(minutes=5))
                      .not_valid_after(now + datetime.timedelta(days=30))
                      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                      .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                   content_commitment=False, key_encipherment=False,
                                                   data_encipherment=False, key_agreement=False,
                                                   encipher_only=False, decipher_only=False), critical=True)
                      .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()),
                                     critical=False)
                      .sign(self._key, hashes.SHA256()))
        self.bundle = self.directory / "ca.pem"
        self.bundle.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._contexts: dict[str, object] = {}
        self._lock = threading.Lock()

    def issue(self, host: str) -> tuple[Path, Path]:
        """(certificate file, key file) for ``host``."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self._cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=7))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=True)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                               critical=False)
                .sign(self._key, hashes.SHA256()))
        safe = host.replace("*", "_")
        cert_file, key_file = self.directory / f"{safe}.pem", self.directory / f"{safe}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_file, key_file

    def server_context(self, host: str):  # -> ssl.SSLContext
        """A TLS server context presenting a certificate for ``host`` (cached per host; the leaf's files are
        deleted once loaded)."""
        import ssl

        with self._lock:
            if host not in self._contexts:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                # AWS: "TLS 1.3 is supported in all S3 endpoints, except for AWS PrivateLink for Amazon S3 and
                # Multi-Region Access Points"; MRAPs require TLS 1.2 (S3 User Guide, "Protecting data in transit
                # with encryption", https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingEncryptionInTransit.html,
                # and "Multi-Region Access Point restrictions and limitations"). So the endpoint speaks TLS 1.2 only.
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.maximum_version = ssl.TLSVersion.TLSv1_2
                cert_file, key_file = self.issue(host)
                try:
                    context.load_cert_chain(cert_file, key_file)
                finally:
                    cert_file.unlink(missing_ok=True)
                    key_file.unlink(missing_ok=True)
                self._contexts[host] = context
            return self._contexts[host]

    def close(self) -> None:
        """Remove the temporary directory (``ca.pem`` and anything left in it). Idempotent."""
        if self._cleanup is not None:
            self._cleanup()
