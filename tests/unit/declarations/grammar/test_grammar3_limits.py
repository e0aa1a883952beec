"""Issue 13, third round: the edges of labels, reports, task lists and tables.

Each reading is narrow; these are the texts just past its edge, which must be refused
with a message that names the words and says what was expected, or read as before.
"""

from __future__ import annotations

import pytest

from mycopod.declarations.errors import CompileError
from mycopod.declarations.grammar import compile_text


def error(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_text(text, filename="t.md")
    return str(info.value)


def test_a_guest_name_before_a_colon_is_a_record_not_a_label() -> None:
    spec = compile_text("web-1: 4 cores\n", filename="t.md")
    assert [(g.name, g.cores) for g in spec.guests] == [("web-1", 4)]


def test_a_label_over_bare_settings_is_not_dropped() -> None:
    # dropping "Jellyfin:" would give the 4 cores to plex, the guest before it
    message = error("plex is a VM with 2 cores.\n\nJellyfin: 4 cores.\n")
    assert "'Jellyfin' reads as an English word" in message
    spec = compile_text("plex is a VM with 2 cores.\n", filename="t.md")
    assert spec.guests[0].cores == 2


def test_a_setting_word_before_a_colon_is_no_label() -> None:
    # "Disk:" starts a setting; it is never dropped as a label
    message = error("Disk: web-2 gets 4 cores.")
    assert "'Disk' reads as an English word" in message


def test_a_reported_addition_of_cores_is_a_change_and_refused() -> None:
    message = error("Added 2 cores to rp-1.")
    assert "'Added' reads as an English word" in message


def test_a_report_with_a_condition_is_refused() -> None:
    message = error("I stopped rp-2, don't start it again until Monday.")
    assert "until Monday" in message


def test_a_table_with_an_unknown_column_quotes_it() -> None:
    message = error("| name | owner | cores |\n|---|---|---|\n| tb-1 | bob | 2 |\n")
    assert message.startswith("t.md:1: ")
    assert "'owner'" in message and "cores" in message


def test_a_table_without_a_name_column_is_refused() -> None:
    message = error("| cores | RAM |\n|---|---|\n| 2 | 2 GB |\n")
    assert "no 'name' column" in message


def test_a_table_row_with_too_many_cells_names_its_line() -> None:
    message = error("| name | cores |\n|---|---|\n| tb-2 | 2 | 3 |\n")
    assert message.startswith("t.md:3: ")
    assert "3 cells" in message


def test_a_table_cell_without_a_unit_is_refused() -> None:
    message = error("| name | RAM |\n|---|---|\n| tb-3 | 2048 |\n")
    assert '"2048 RAM"' in message


def test_a_task_box_is_dropped_but_the_statement_is_still_read() -> None:
    message = error("- [x] web-3 is stopped tonight\n")  # "until Monday": not scheduled
    assert "tonight" in message


def test_an_arrow_between_different_amounts_is_refused() -> None:
    message = error("chl-1: 2 cores -> 4 GB")
    assert '"4 GB"' in message


def test_an_arrow_between_words_stays_a_separator() -> None:
    spec = compile_text("chl-2 -> container\n", filename="t.md")
    assert [(g.name, g.kind) for g in spec.guests] == [("chl-2", "ct")]
