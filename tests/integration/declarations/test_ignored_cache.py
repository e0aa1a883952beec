"""What the grammar did not use survives the compile cache (issue 13): a file compiled
whole, the same file from the cache, and a large file compiled paragraph by paragraph
(some paragraphs from their cache) all record the same notes, at the file's lines."""

from __future__ import annotations

import asyncpg

from mycopod.declarations import pipeline

TEXT = ("> Could we get a web server soon?\n"
        "Since the old box died, web-1 is a VM with 2 cores.\n\ndb-1 is a VM with 1 core.\n")
NOTES = [(1, "ignored as quoted text: '> Could we get a web server soon?'"),
         (2, "ignored as context: 'Since the old box died'")]


async def test_notes_are_recorded_whether_compiled_now_or_cached(db: asyncpg.Pool) -> None:
    cold = await pipeline.compile_files_cached({"web.md": TEXT}, pool=db)
    assert cold.error is None
    [record] = cold.files
    assert (record.cached, sorted(record.ignored)) == (False, NOTES)
    warm = await pipeline.compile_files_cached({"other/web.md": TEXT}, pool=db)
    [again] = warm.files
    assert (again.cached, sorted(again.ignored)) == (True, NOTES)


def many(first: str) -> str:
    return "\n\n".join([first, *(f"g-{i} is a stopped VM with 1 cores." for i in range(1, 20))]
                       ) + "\n"


async def test_a_file_compiled_paragraph_by_paragraph_keeps_its_notes_at_file_lines(
        db: asyncpg.Pool) -> None:
    text = many("g-0 is a stopped VM with 1 cores.").replace(
        "g-7 is", "As discussed, g-7 is")
    cold = await pipeline.compile_files_cached({"fleet.md": text}, pool=db)
    assert cold.error is None and cold.paragraphs_compiled == 20
    [record] = cold.files
    line = text.splitlines().index("As discussed, g-7 is a stopped VM with 1 cores.") + 1
    assert record.ignored == [(line, "ignored as context: 'As discussed'")]
    assert line == 15
    # one paragraph changed: the note of g-7 comes from its paragraph's cache row
    changed = text.replace("g-0 is a stopped VM with 1 cores.", "g-0 is a stopped VM.")
    warm = await pipeline.compile_files_cached({"fleet.md": changed}, pool=db)
    assert (warm.paragraphs_compiled, warm.paragraphs_reused) == (1, 19)
    assert warm.files[0].ignored == [(15, "ignored as context: 'As discussed'")]
    rows = await db.fetch("SELECT ignored FROM compile_cache WHERE compiler = "
                          "'grammar-paragraph' AND ignored <> '[]'::jsonb")
    assert [r["ignored"] for r in rows] == [[[1, "ignored as context: 'As discussed'"]]]
