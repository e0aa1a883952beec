"""Cache and pipeline against a real PostgreSQL and real git repositories."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from mycopod import spec as specmod
from mycopod.config import DeclarationsSettings, load_settings
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.store.compile_cache import CacheKey, CompileCacheStore
from mycopod.store.declarations import DeclarationStore
from tests.support.gitrepo import Remote


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


@pytest.fixture
def source(remote: Remote, tmp_path: Path) -> GitSource:
    return GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "state")


async def test_compile_commit_stores_the_spec(db: asyncpg.Pool, remote: Remote,
                                              source: GitSource) -> None:
    sha = remote.commit({"web.md": "web-1 is a VM with 2 cores.\n",
                         "dns.md": "- dns is a container.\n"}, message="Add web and dns")
    assert source.fetch() == sha
    row = await pipeline.compile_commit(source, sha, pool=db)
    assert (row.compile_status, row.compile_error, row.github_commit_sha) == ("ok", None, sha)
    assert row.spec is not None and [g.name for g in row.spec.guests] == ["dns", "web-1"]
    assert (row.commit_author, row.commit_message, row.source) == (
        "Owner <owner@lab>", "Add web and dns", "git")
    assert [(f.path, f.compiler, f.cached, f.guests) for f in row.files] == [
        ("dns.md", "grammar", False, ["dns"]), ("web.md", "grammar", False, ["web-1"])]
    assert "<!-- file: web.md -->\nweb-1 is a VM with 2 cores.\n" in row.content
    store = DeclarationStore(db)
    assert await store.latest_good() == row
    assert await store.get(row.id) == row
    assert await store.get_by_commit(sha) == row


async def test_unchanged_files_are_never_compiled_twice(db: asyncpg.Pool, remote: Remote,
                                                        source: GitSource) -> None:
    files: dict[str, str | bytes | None] = {
        f"guests/g{n:02d}.md": f"g-{n} is a VM with {n % 8 + 1} cores.\n" for n in range(50)}
    first = remote.commit(files)
    source.fetch()
    row = await pipeline.compile_commit(source, first, pool=db)
    assert sum(f.cached for f in row.files) == 0
    again = await pipeline.compile_commit(source, first, pool=db)
    assert sum(f.cached for f in again.files) == 50
    second = remote.commit({"guests/g07.md": "g-7 is a VM with 16 cores.\n"})
    source.fetch()
    row2 = await pipeline.compile_commit(source, second, pool=db)
    compiled = [f.path for f in row2.files if not f.cached]
    assert compiled == ["guests/g07.md"]
    assert row2.spec is not None and row2.spec.guest("g-7").cores == 16  # type: ignore[union-attr]
    assert await CompileCacheStore(db).count() == 51


async def test_failed_compile_keeps_the_last_good_spec(db: asyncpg.Pool, remote: Remote,
                                                       source: GitSource) -> None:
    good = remote.commit({"web.md": "web-1 is a VM.\n"})
    source.fetch()
    good_row = await pipeline.compile_commit(source, good, pool=db)
    bad = remote.commit({"web.md": "web-1 is a VM with 2 GPUs.\n"})
    source.fetch()
    bad_row = await pipeline.compile_commit(source, bad, pool=db)
    assert (bad_row.compile_status, bad_row.spec) == ("error", None)
    assert bad_row.compile_error is not None
    assert bad_row.compile_error.startswith(
        "web.md:1: could not understand \"2 GPUs\" in \"web-1 is a VM with 2 GPUs\"")
    assert bad_row.files[0].error == bad_row.compile_error
    store = DeclarationStore(db)
    assert (await store.latest_good()) == good_row
    assert (await store.latest()) == bad_row
    # the error itself is cached too: the same bad file is not compiled again
    again = await pipeline.compile_commit(source, bad, pool=db)
    assert again.files[0].cached and again.compile_error == bad_row.compile_error
    # and the same content under another name reports that name
    moved = remote.commit({"web.md": None, "lab/web.md": "web-1 is a VM with 2 GPUs.\n"})
    source.fetch()
    moved_row = await pipeline.compile_commit(source, moved, pool=db)
    assert moved_row.files[0].cached
    assert moved_row.compile_error is not None
    assert moved_row.compile_error.startswith("lab/web.md:1: could not understand")


async def test_duplicate_across_files_names_both(db: asyncpg.Pool, remote: Remote,
                                                 source: GitSource) -> None:
    sha = remote.commit({"a.md": "web-1 is a VM.\n", "b/c.md": "web-1 is a container.\n"})
    source.fetch()
    row = await pipeline.compile_commit(source, sha, pool=db)
    assert row.compile_status == "error"
    assert row.compile_error == "b/c.md: web-1 is declared twice: in a.md and in b/c.md"


async def test_more_guests_than_max_guests_is_a_compile_error_naming_count_and_setting(
        db: asyncpg.Pool, remote: Remote, source: GitSource, tmp_path: Path) -> None:
    """Two files within the limit each, over it together; the verdict follows the setting
    (it is not cached with the file's content)."""
    files = {f"{part}.md": "".join(f"Create 50 VMs named {part}{i}-1 through {part}{i}-50.\n"
                                   for i in range(3)) for part in ("a", "b")}
    sha = remote.commit(files)  # type: ignore[arg-type]
    source.fetch()
    tiny = load_settings(environ={}, overrides={"declarations": {"max_guests": 100}})
    row = await pipeline.compile_commit(source, sha, pool=db, settings=tiny)
    assert row.compile_status == "error" and row.compile_error is not None
    assert row.compile_error.startswith("a.md:3: at least 150 guests declared, more than "
                                        "the setting declarations.max_guests allows (100)")
    assert "b.md:3: at least 150 guests declared" in row.compile_error
    small = load_settings(environ={}, overrides={"declarations": {"max_guests": 250}})
    row = await pipeline.compile_commit(source, sha, pool=db, settings=small)
    assert row.compile_status == "error" and row.spec is None
    assert row.compile_error == (
        "a.md: 300 guests declared, more than the setting declarations.max_guests allows "
        "(250); declare fewer guests, or have an Admin raise declarations.max_guests "
        "(150 of them in this file)")
    row = await pipeline.compile_commit(source, sha, pool=db)  # the default: 2000
    assert row.compile_status == "ok" and row.spec is not None and len(row.spec.guests) == 300


async def test_unreadable_files_are_a_compile_error(db: asyncpg.Pool, remote: Remote,
                                                    source: GitSource) -> None:
    sha = remote.commit({"big.md": "x" * (300 * 1024)})
    source.fetch()
    row = await pipeline.compile_commit(source, sha, pool=db)
    assert (row.compile_status, row.compile_error) == (
        "error", "big.md: is 307200 bytes; declaration files must be at most 256 KiB")


async def test_files_mapping_and_api_origin(db: asyncpg.Pool) -> None:
    row = await pipeline.compile_commit({"x.md": "A VM named scratch.\n"}, "c" * 40, pool=db,
                                        origin="api", path="x.md", author="alice")
    assert (row.source, row.path, row.commit_author) == ("api", "x.md", "alice")
    assert row.spec == specmod.ClusterSpec(guests=[specmod.GuestSpec.model_validate(
        {"name": "scratch"})])
    store = DeclarationStore(db)
    page, total = await store.page_visible(viewer_id=None, limit=10)
    assert total == 1 and page[0].id == row.id and page[0].content == ""
    assert page[0].spec is None  # a page shows no spec: it is not even parsed
    git_row = await pipeline.compile_commit({"y.md": "A VM named other.\n"}, "b" * 40, pool=db)
    assert [r.id for r in (await store.page_visible(viewer_id=None))[0]] == [git_row.id, row.id]
    assert [r.id for r in (await store.page_visible(viewer_id=999))[0]] == [git_row.id]


async def test_cache_store_round_trip(db: asyncpg.Pool) -> None:
    store = CompileCacheStore(db)
    key = CacheKey(content_sha256="a" * 64, compiler="grammar", prompt_version="g-1")
    assert await store.get(key) is None
    await store.put(key, spec={"guests": []}, error=None)
    entry = await store.get(key)
    assert entry is not None and (entry.spec, entry.hits) == ({"guests": []}, 1)
    with pytest.raises(ValueError, match="a cache entry needs a spec or an error"):
        await store.put(key, spec=None, error=None)
    other = CacheKey(content_sha256="b" * 64, compiler="grammar", prompt_version="g-1")
    await store.put_many([(key, None, "bad"), (other, {"guests": []}, None)])
    found = await store.hit_many([key, other])
    assert {k: (e.spec, e.error) for k, e in found.items()} == {
        key: (None, "bad"), other: ({"guests": []}, None)}
    with pytest.raises(ValueError, match="a cache entry needs a spec or an error"):
        await store.put_many([(other, None, None)])


def test_grammar_version_is_stable() -> None:
    version = pipeline.grammar_version()
    assert version.startswith("g-")
    assert pipeline.grammar_version.__wrapped__() == version  # recomputed, bypassing the cache


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the ``mycopod`` sources whose files a test may edit."""
    package = Path(str(specmod.__file__)).parent.parent
    copy = tmp_path / "mycopod"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert pipeline.source_version(copy) == pipeline.grammar_version()
    return copy


@pytest.mark.parametrize("module", [
    "declarations/grammar/__init__.py", "declarations/grammar/lexicon.py",
    "declarations/grammar/phrases.py", "declarations/errors.py", "spec/guest.py"])
def test_an_edit_to_the_grammar_changes_the_version(module: str, package_copy: Path) -> None:
    version = pipeline.source_version(package_copy)
    with (package_copy / module).open("a") as file:
        file.write("\n# edited\n")
    assert pipeline.source_version(package_copy) != version


@pytest.mark.parametrize("module", [
    "declarations/webhook.py", "declarations/pipeline.py", "declarations/render.py",
    "declarations/llm.py", "declarations/__init__.py", "config.py"])
def test_an_edit_outside_the_grammar_keeps_the_version(module: str, package_copy: Path) -> None:
    version = pipeline.source_version(package_copy)
    with (package_copy / module).open("a") as file:
        file.write("\n# edited\n")
    assert pipeline.source_version(package_copy) == version


def test_a_new_grammar_module_changes_the_version(package_copy: Path) -> None:
    version = pipeline.source_version(package_copy)
    (package_copy / "declarations" / "grammar" / "extra.py").write_text("X = 1\n")
    assert pipeline.source_version(package_copy) != version


def test_grammar_version_refuses_a_missing_source(package_copy: Path) -> None:
    (package_copy / "declarations" / "errors.py").unlink()
    with pytest.raises(FileNotFoundError, match="declarations/errors.py"):
        pipeline.source_version(package_copy)
