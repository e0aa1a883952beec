"""Bare git repositories served over HTTPS on 127.0.0.1 by git's own ``git http-backend``
(the smart HTTP protocol), each repository refusing any request without its token.

A token is checked the way a forge checks it: the password of HTTP basic auth (MycoPod
sends ``x-access-token:<token>``). Every request is recorded with the repository it asked
for and the token it carried, so a test can say which token went where. Git trusts the
server's self-signed certificate through ``GIT_SSL_CAINFO`` (:attr:`GitHttps.cafile`).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["GitHttps", "Seen", "serving_git"]


@dataclass(frozen=True)
class Seen:
    """One request: the repository (``b/remote.git``) and the token it carried (None: none)."""

    repo: str
    token: str | None
    status: int


@dataclass
class GitHttps:
    root: Path
    port: int
    cafile: Path
    #: repository path under root ("b/remote.git") -> the only token it accepts
    tokens: dict[str, str]
    seen: list[Seen] = field(default_factory=list)

    def url(self, repo: str) -> str:
        return f"https://127.0.0.1:{self.port}/{repo}"

    def tokens_of(self, repo: str) -> set[str | None]:
        return {s.token for s in self.seen if s.repo == repo}


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "git.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "git-cert.pem", folder / "git-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _handler(server: GitHttps) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _token(self) -> str | None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            _user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return password

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            segments = parts.path.lstrip("/").split("/")
            ends = [i for i, s in enumerate(segments) if s.endswith(".git")]
            repo = "/".join(segments[:ends[0] + 1]) if ends else parts.path
            token = self._token()
            wanted = server.tokens.get(repo)
            if wanted is None or token != wanted:
                with lock:
                    server.seen.append(Seen(repo, token, 401))
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with lock:
                server.seen.append(Seen(repo, token, 200))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "GIT_PROJECT_ROOT": str(server.root), "GIT_HTTP_EXPORT_ALL": "1",
                   "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
                   "REQUEST_METHOD": self.command, "REMOTE_ADDR": "127.0.0.1",
                   "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                   "CONTENT_LENGTH": str(len(body))}
            for header, variable in (("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                                     ("Git-Protocol", "GIT_PROTOCOL")):
                if self.headers.get(header):
                    env[variable] = self.headers[header]
            out = subprocess.run(["git", "http-backend"], input=body, env=env,
                                 capture_output=True, check=False).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

    return Handler


@contextmanager
def serving_git(root: Path, tokens: dict[str, str]) -> Iterator[GitHttps]:
    """Serve the bare repositories under ``root`` (``root/b/remote.git``, as
    :class:`tests.support.gitrepo.Remote` makes them) over HTTPS; each accepts
    only its token of ``tokens``."""
    cert, key = _certificate(root)
    state = GitHttps(root=root, port=0, cafile=cert, tokens=tokens)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
