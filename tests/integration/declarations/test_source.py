"""The git source against real repositories in temporary folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mycopod.config import DeclarationsSettings
from mycopod.declarations.localrepo import read_repository
from mycopod.declarations.source import (
    GitSource,
    SourceError,
    SourceFilesError,
    glob_regex,
)
from tests.support.gitrepo import Remote


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


def source_for(remote: Remote, tmp_path: Path, **options: object) -> GitSource:
    settings = DeclarationsSettings(repo=str(remote.bare), **options)  # type: ignore[arg-type]
    return GitSource(settings, state_dir=tmp_path / "state")


def test_fetch_reads_files_at_the_commit_from_git_objects(remote: Remote,
                                                          tmp_path: Path) -> None:
    first = remote.commit({"README.md": "# not a declaration\n", "lab/web.md": "web-1 is a VM.\n",
                           "notes.txt": "ignored\n", "docs/readme.md": "also skipped\n"})
    source = source_for(remote, tmp_path)
    assert source.fetch() == first
    assert source.files_at(first) == {"lab/web.md": "web-1 is a VM.\n"}
    second = remote.commit({"lab/web.md": "web-1 is a container.\n", "db.md": "db is a VM.\n"})
    assert source.fetch() == second
    # the first commit still reads as it was: nothing comes from a working tree
    assert source.files_at(first) == {"lab/web.md": "web-1 is a VM.\n"}
    assert source.files_at(second) == {"db.md": "db is a VM.\n",
                                       "lab/web.md": "web-1 is a container.\n"}
    info = source.commit_info(second)
    assert (info.sha, info.author, info.author_email, info.message) == (
        second, "Owner", "owner@lab", "update")


def test_glob_setting(remote: Remote, tmp_path: Path) -> None:
    commit = remote.commit({"a.md": "x", "decl/b.md": "y", "decl/deep/c.md": "z"})
    source = source_for(remote, tmp_path, glob="decl/**/*.md")
    source.fetch()
    assert sorted(source.files_at(commit)) == ["decl/b.md", "decl/deep/c.md"]
    assert glob_regex("*.md").match("a.md") and not glob_regex("*.md").match("x/a.md")


def test_force_push_is_followed_and_recorded(remote: Remote, tmp_path: Path) -> None:
    remote.commit({"a.md": "a is a VM.\n"})
    old = remote.commit({"b.md": "b is a VM.\n"})
    source = source_for(remote, tmp_path)
    assert source.fetch() == old
    remote.git("reset", "-q", "--hard", "HEAD~1")
    new = remote.commit({"c.md": "c is a VM.\n"}, force=True)
    assert source.fetch() == new
    assert source.rewrites == [(old, new)]
    assert sorted(source.files_at(new)) == ["a.md", "c.md"]


def test_unreachable_remote_keeps_the_last_good_commit(remote: Remote, tmp_path: Path) -> None:
    good = remote.commit({"a.md": "a is a VM.\n"})
    source = source_for(remote, tmp_path, poll_seconds=10)
    assert source.fetch() == good
    remote.bare.rename(tmp_path / "gone.git")
    for expected_delay in (10.0, 20.0, 40.0):
        with pytest.raises(SourceError, match=r"^cannot fetch .*remote\.git: fatal: "):
            source.fetch()
        assert source.retry_delay() == expected_delay
    assert source.last_good == good
    assert source.files_at(good) == {"a.md": "a is a VM.\n"}
    (tmp_path / "gone.git").rename(remote.bare)
    assert source.fetch() == good
    assert (source.failures, source.retry_delay()) == (0, 10.0)


def test_empty_repository_and_missing_branch(remote: Remote, tmp_path: Path) -> None:
    source = source_for(remote, tmp_path)
    with pytest.raises(SourceError) as info:
        source.fetch()
    assert str(info.value) == (f"the declarations repository {remote.bare} is empty: push a "
                               "first commit to branch 'main'")
    remote.commit({"a.md": "a is a VM.\n"})
    other = source_for(remote, tmp_path, branch="prod")
    with pytest.raises(SourceError) as info:
        other.fetch()
    assert str(info.value) == (f"branch 'prod' does not exist in {remote.bare} (set "
                               "declarations.branch)")


def test_bad_files_are_reported_not_read(remote: Remote, tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text("secret is a VM.\n")
    remote.commit({"big.md": "x" * (256 * 1024 + 1), "latin1.md": "caf\xe9".encode("latin-1"),
                   "ok.md": "ok is a VM.\n", "inner.md": "inner is a VM.\n"}, push=False)
    os.symlink("../outside.md", remote.work / "escape.md")
    os.symlink("/etc/passwd", remote.work / "abs.md")
    os.symlink("inner.md", remote.work / "alias.md")
    commit = remote.commit({})
    source = source_for(remote, tmp_path)
    source.fetch()
    with pytest.raises(SourceFilesError) as info:
        source.files_at(commit)
    assert info.value.problems == [
        ("abs.md", "is a symlink to '/etc/passwd', outside the repository; symlinks must stay "
                   "inside"),
        ("big.md", "is 262145 bytes; declaration files must be at most 256 KiB"),
        ("escape.md", "is a symlink to '../outside.md', outside the repository; symlinks must "
                      "stay inside"),
        ("latin1.md", "is not UTF-8 text (byte 3); save it as UTF-8"),
    ]


def test_unknown_commit(remote: Remote, tmp_path: Path) -> None:
    remote.commit({"a.md": "a is a VM.\n"})
    source = source_for(remote, tmp_path)
    source.fetch()
    with pytest.raises(SourceError, match="commit 0{40} is not in the repository"):
        source.files_at("0" * 40)
    with pytest.raises(SourceError, match="'HEAD; rm' is not a commit sha"):
        source.files_at("HEAD; rm")


def test_commit_declaration_writes_through_git(remote: Remote, tmp_path: Path) -> None:
    remote.commit({"a.md": "a is a VM.\n"})
    source = source_for(remote, tmp_path)
    sha = source.commit_declaration("api/web.md", "web-1 is a VM.\n", author_name="alice",
                                    author_email="alice@mycopod")
    assert remote.git("rev-parse", "main", cwd=remote.bare) == sha
    info = source.commit_info(sha)
    assert (info.author, info.author_email) == ("alice", "alice@mycopod")
    assert source.files_at(sha) == {"a.md": "a is a VM.\n", "api/web.md": "web-1 is a VM.\n"}


def test_commit_declaration_into_an_empty_repository(remote: Remote, tmp_path: Path) -> None:
    source = source_for(remote, tmp_path)
    sha = source.commit_declaration("first.md", "web-1 is a VM.\n", author_name="bob",
                                    author_email="bob@lab")
    assert source.files_at(sha) == {"first.md": "web-1 is a VM.\n"}


def test_rejected_push_is_retried_once_after_a_fetch(remote: Remote, tmp_path: Path) -> None:
    remote.commit({"a.md": "a is a VM.\n"})
    source = source_for(remote, tmp_path)
    hook = remote.bare / "hooks" / "pre-receive"
    marker = tmp_path / "rejected-once"
    hook.write_text(f"#!/bin/sh\nif [ ! -e {marker} ]; then touch {marker}; "
                    "echo 'busy, try again' >&2; exit 1; fi\nexit 0\n")
    hook.chmod(0o755)
    sha = source.commit_declaration("b.md", "b is a VM.\n", author_name="c", author_email="c@l")
    assert remote.git("rev-parse", "main", cwd=remote.bare) == sha
    marker.unlink()
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    with pytest.raises(SourceError, match="the push of c.md was rejected twice: .*"):
        source.commit_declaration("c.md", "c is a VM.\n", author_name="c", author_email="c@l")


@pytest.mark.parametrize(("path", "message"), [
    ("../x.md", "is not a relative path inside the repository"),
    ("/etc/x.md", "is not a relative path inside the repository"),
    ("README.md", "is not a declaration file"),
    ("x.txt", "is not a declaration file"),
])
def test_commit_declaration_refuses_bad_paths(remote: Remote, tmp_path: Path, path: str,
                                              message: str) -> None:
    with pytest.raises(SourceError, match=message):
        source_for(remote, tmp_path).commit_declaration(path, "x", author_name="a",
                                                        author_email="a@b")


def test_https_token_is_sent_as_a_header_and_never_logged(tmp_path: Path) -> None:
    settings = DeclarationsSettings(repo="https://127.0.0.1:9/lab.git", token="tok-123456")
    source = GitSource(settings, state_dir=tmp_path)
    with pytest.raises(SourceError) as info:
        source.fetch()
    assert "tok-123456" not in str(info.value)
    config = (tmp_path / "declarations.git" / ".git" / "config").read_text()
    assert "tok-123456" not in config and "Authorization" not in config
    assert any("http.extraHeader=Authorization: Basic " in a for a in source._git_args())


def test_read_repository_for_the_cli(remote: Remote, tmp_path: Path) -> None:
    first = remote.commit({"a.md": "a is a VM.\n"})
    remote.commit({"b.md": "b is a VM.\n"})
    settings = DeclarationsSettings()
    assert sorted(read_repository(remote.work, settings)) == ["a.md", "b.md"]
    assert sorted(read_repository(remote.work, settings, commit=first)) == ["a.md"]
    with pytest.raises(SourceError, match="is not a git repository"):
        read_repository(tmp_path / "nowhere", settings)
    assert subprocess.run(["git", "--version"], capture_output=True).returncode == 0


def test_cli_compile_repo(remote: Remote, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    from mycopod import cli

    first = remote.commit({"a.md": "alpha is a VM with 2 cores.\n", "README.md": "# Lab\n"})
    remote.commit({"b.md": "bravo is a container.\n"})
    assert cli.main(["compile", "--repo", str(remote.work), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"name": "alpha"' in out and '"name": "bravo"' in out
    assert cli.main(["compile", "--repo", str(remote.work), "--commit", first]) == 0
    # only what the text states is written back (the state is not stated)
    assert capsys.readouterr().out == "alpha is a VM with 2 cores.\n"
    remote.commit({"c.md": "charlie is a VM with 2 widgets.\n"})
    assert cli.main(["compile", "--repo", str(remote.work)]) == 1
    assert capsys.readouterr().err.startswith("c.md:1: could not understand \"2 widgets\"")
    assert cli.main(["compile", "--commit", first]) == 2
