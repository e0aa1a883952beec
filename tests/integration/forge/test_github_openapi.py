"""GitHub's REST description is taken only as pinned: its integrity is checked on
download (from a local npm registry here) and on every load."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from tests.support import github_openapi


@contextmanager
def registry(payload: bytes) -> Iterator[str]:
    """A local npm registry serving ``payload`` as the pinned tarball."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != f"/@octokit/openapi/-/openapi-{github_openapi.VERSION}.tgz":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_is_kept_only_when_its_integrity_matches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = github_openapi.ensure_tarball().read_bytes()  # the shared cache
    monkeypatch.setenv("MYCOPOD_OPENAPI_CACHE", str(tmp_path / "cache"))
    with registry(good[:-10] + b"tampered!!") as url:
        monkeypatch.setenv("MYCOPOD_NPM_REGISTRY", url)
        with pytest.raises(RuntimeError, match="does not match the pinned integrity"):
            github_openapi.ensure_tarball()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    with registry(good) as url:
        monkeypatch.setenv("MYCOPOD_NPM_REGISTRY", url)
        path = github_openapi.ensure_tarball()
    assert path.read_bytes() == good
    ops = github_openapi.load(path)
    assert [op.operation_id for op in ops] == [
        "repos/create-commit-status", "issues/create-comment", "issues/update-comment",
        "repos/get"]
    # the operations, and nothing more, are what is kept in memory
    assert ops[0].body is not None and ops[0].body["required"] == ["state"]
    assert ops[0].body["properties"]["target_url"]["type"] == ["string", "null"]


def test_a_cached_tarball_that_changed_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "octokit-openapi.tgz"
    bad.write_bytes(b"not the tarball")
    with pytest.raises(RuntimeError, match="delete it to download it again"):
        github_openapi.load(bad)
