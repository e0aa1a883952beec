"""A push changing one paragraph of a large file compiles that paragraph (issue 17):
the pipeline against a real PostgreSQL and a real git repository."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from mycopod import spec as specmod
from mycopod.config import CompileSettings, DeclarationsSettings
from mycopod.declarations import grammar, paragraph_cache, pipeline
from mycopod.declarations.source import GitSource
from mycopod.declarations.workers import CompileWorkers
from mycopod.store.compile_cache import CompileCacheStore
from tests.support.gitrepo import Remote


def guests(count: int, *, first_cores: int = 1) -> str:
    return "\n\n".join(f"g-{i} is a stopped VM with {first_cores if i == 0 else 1} cores "
                       "and 1 GB of RAM." for i in range(count)) + "\n"


async def test_a_push_changing_one_paragraph_compiles_one(db: asyncpg.Pool,
                                                          tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    first = remote.commit({"site/guests.md": guests(200), "small.md": "x-1 is a VM.\n"})
    source.fetch()
    files = source.files_at(first)
    cold = await pipeline.compile_files_cached(files, pool=db)
    assert cold.error is None and cold.spec is not None and len(cold.spec.guests) == 201
    assert (cold.paragraphs_compiled, cold.paragraphs_reused) == (200, 0)
    second = remote.commit({"site/guests.md": guests(200, first_cores=4)})
    source.fetch()
    changed = await pipeline.compile_files_cached(source.files_at(second), pool=db)
    assert (changed.compiled, changed.hits) == (1, 1)  # small.md is a file hit
    assert (changed.paragraphs_compiled, changed.paragraphs_reused) == (1, 199)
    row = await pipeline.compile_commit(source, second, pool=db)  # now a file hit
    assert [f.cached for f in row.files] == [True, True]
    assert row.compile_status == "ok" and row.spec is not None
    assert row.spec.guest("g-0").cores == 4  # type: ignore[union-attr]
    # exactly what the whole file compiles to, in the same order
    whole = grammar.compile_text(guests(200, first_cores=4))
    assert specmod.spec_dict(row.spec) == specmod.spec_dict(
        specmod.ClusterSpec(guests=[*whole.guests, *grammar.compile_text(
            "x-1 is a VM.\n").guests]))
    # one row per paragraph, one per file version: the push added its paragraph's and
    # its file's rows only
    rows = await db.fetch("SELECT compiler, count(*) AS n FROM compile_cache GROUP BY 1")
    assert {r["compiler"]: r["n"] for r in rows} == {
        "grammar": 3, paragraph_cache.COMPILER: 201}
    assert await CompileCacheStore(db).count() == 204


async def test_a_file_with_headings_is_compiled_whole(db: asyncpg.Pool) -> None:
    text = "# Web servers\n\n" + guests(30)
    done = await pipeline.compile_files_cached({"web.md": text}, pool=db)
    assert done.error is None and done.spec is not None and len(done.spec.guests) == 30
    assert (done.paragraphs_compiled, done.paragraphs_reused) == (0, 0)
    # a paragraph declaring a guest another paragraph adds to: whole, and its error stays
    # the grammar's, with the line
    clash = guests(20) + "\ng-3 is a container.\n"
    failed = await pipeline.compile_files_cached({"clash.md": clash}, pool=db)
    assert failed.error is not None and failed.error.startswith(
        "clash.md:41: g-3 is declared twice: line 7 and line 41"), failed.error


async def test_paragraphs_compile_in_the_workers_within_the_commit_s_time(db: asyncpg.Pool) -> None:
    workers = CompileWorkers(CompileSettings(workers=2))
    try:
        cold = await pipeline.compile_files_cached({"a.md": guests(40)}, pool=db,
                                                   workers=workers)
        assert (cold.paragraphs_compiled, cold.paragraphs_reused) == (40, 0)
        one = await pipeline.compile_files_cached({"a.md": guests(40, first_cores=3)},
                                                  pool=db, workers=workers)
        assert (one.paragraphs_compiled, one.paragraphs_reused) == (1, 39)
        assert one.spec is not None and one.spec.guest("g-0").cores == 3  # type: ignore[union-attr]
    finally:
        await workers.close()
    # out of time: the paragraphs stop together, then the whole file, whose error it is
    strict = CompileWorkers(CompileSettings(workers=2, file_seconds=0.05,
                                            request_seconds=0.1))
    try:
        slow = await pipeline.compile_files_cached({"b.md": guests(1500)}, pool=db,
                                                   workers=strict)
    finally:
        await strict.close()
    assert slow.spec is None and slow.error is not None
    assert slow.error.startswith("b.md: compiling was stopped: the files of this request "
                                 "took longer than the 0.1 s allowed"), slow.error
