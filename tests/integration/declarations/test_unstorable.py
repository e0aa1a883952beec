"""Issue 18, item 5: file content PostgreSQL cannot store is a compile error on its commit.

The attack: a NUL byte pushed in a declaration file made every record of the commit fail
(PostgreSQL text cannot hold U+0000), so the poller logged a database error on every
poll and the commit was never recorded. Now the commit is recorded as a compile error
naming the file and line, the last good spec stays in force, and the next good commit
is processed as usual.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from mycopod.config import DeclarationsSettings
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.store import pgtext
from mycopod.store.compile_cache import CompileCacheStore
from mycopod.store.declarations import DeclarationStore
from tests.support.gitrepo import Remote


@pytest.mark.parametrize(("text", "where"), [
    ("web-1 is a VM.\n", None),
    ("", None),
    ("web-1 is a VM.\x00\n", (1, 15, "\x00")),
    ("web-1 is a VM.\n\ndb-1 is a\x00 VM.\n", (3, 10, "\x00")),
    ("\x00", (1, 1, "\x00")),
    ("a\nb\ud800c\n", (2, 2, "\ud800")),
    ("tag \udcff\n", (1, 5, "\udcff")),
    ("emoji \U0001f600 and é are fine\n", None),
])
def test_problem_finds_the_first_unstorable_character(
        text: str, where: tuple[int, int, str] | None) -> None:
    found = pgtext.problem(text)
    assert (None if found is None else (found.line, found.column, found.char)) == where
    if found is not None:
        assert "remove it" in found.message()
    assert pgtext.problem(pgtext.scrub(text)) is None
    assert len(pgtext.scrub(text)) == len(text)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


@pytest.fixture
def source(remote: Remote, tmp_path: Path) -> GitSource:
    return GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "state")


async def test_a_nul_byte_is_a_compile_error_and_the_pipeline_moves_on(
        db: asyncpg.Pool, remote: Remote, source: GitSource) -> None:
    store = DeclarationStore(db)
    good = remote.commit({"web.md": "web-1 is a VM.\n"})
    source.fetch()
    good_row = await pipeline.compile_commit(source, good, pool=db)
    assert good_row.ok

    bad = remote.commit({"evil.md": b"db-1 is a VM.\nIt has\x00 2 cores.\n"})
    source.fetch()
    bad_row = await pipeline.compile_commit(source, bad, pool=db)  # used to raise DataError
    assert bad_row.compile_status == "error" and bad_row.github_commit_sha == bad
    assert bad_row.compile_error == (
        "evil.md:2: contains a NUL character (byte 0x00) at column 7, which a declaration "
        "cannot hold; remove it and save the file as plain UTF-8 text")
    evil = next(f for f in bad_row.files if f.path == "evil.md")
    assert evil.error == bad_row.compile_error and evil.compiler is None
    assert "It has\ufffd 2 cores." in bad_row.content  # recorded, as faithfully as it can be
    assert await store.latest() == bad_row
    assert await store.latest_good() == good_row  # the last good spec stays in force
    # nothing of the bad file reached the compile cache; the good file was a cache hit
    assert await CompileCacheStore(db).count() == 1
    # recording the same commit again (a restart, the next poll) works the same way
    again = await pipeline.compile_commit(source, bad, pool=db)
    assert again.id == bad_row.id and again.compile_error == bad_row.compile_error

    fixed = remote.commit({"evil.md": "db-1 is a VM with 2 cores.\n"})
    source.fetch()
    fixed_row = await pipeline.compile_commit(source, fixed, pool=db)
    assert fixed_row.ok and fixed_row.spec is not None
    assert [g.name for g in fixed_row.spec.guests] == ["db-1", "web-1"]
    assert await store.latest_good() == fixed_row


async def test_lone_surrogates_and_unstorable_metadata_are_recorded(db: asyncpg.Pool) -> None:
    files = {"ok.md": "web-1 is a VM.\n", "odd.md": "db-1 is a VM \ud800.\n"}
    row = await pipeline.compile_commit(files, "c" * 40, pool=db,
                                        author="Eve \x00 <eve@lab>", message="hi\udcff")
    assert row.compile_status == "error"
    assert row.compile_error is not None and row.compile_error.startswith(
        "odd.md:1: contains an unpaired surrogate (U+D800)")
    assert (row.commit_author, row.commit_message) == ("Eve \ufffd <eve@lab>", "hi\ufffd")
    assert [f.path for f in row.files] == ["odd.md", "ok.md"]
    assert next(f for f in row.files if f.path == "ok.md").guests == ["web-1"]


async def test_a_file_name_that_is_not_utf8_is_a_compile_error(
        db: asyncpg.Pool, remote: Remote, source: GitSource) -> None:
    good = remote.commit({"web.md": "web-1 is a VM.\n"})
    source.fetch()
    good_row = await pipeline.compile_commit(source, good, pool=db)
    (remote.work / "web.md").unlink()
    with open(bytes(remote.work) + b"/caf\xe9.md", "wb") as handle:  # a Latin-1 file name
        handle.write(b"web-1 is a VM.\n")
    bad = remote.commit({})
    source.fetch()
    assert "caf\udce9.md" in source.files_at(bad)  # how git's bytes reach Python
    bad_row = await pipeline.compile_commit(source, bad, pool=db)
    assert bad_row.compile_error == (
        "caf\ufffd.md: the file name is not valid UTF-8 text; rename the file (the "
        "character shown as \ufffd)")
    assert [f.path for f in bad_row.files] == ["caf\ufffd.md"]
    assert await DeclarationStore(db).latest_good() == good_row
