"""Compact list items and settings written other ways (grammar/compact.py, markdown.py's
markers, hardware.py's bare size): what they state, and what stays refused."""

from __future__ import annotations

from tests.support.grammar import error, stated


def test_a_glued_size_after_the_name_is_the_memory() -> None:
    assert stated("- plex-2 4gb\n- radarr-2 1gb\n") == {
        "plex-2": {"name": "plex-2", "memory_mib": 4096},
        "radarr-2": {"name": "radarr-2", "memory_mib": 1024}}
    assert stated("- homer-2 ct 256mb") == {
        "homer-2": {"name": "homer-2", "kind": "ct", "memory_mib": 256}}
    assert stated("- stack-2 (vm) 2c/4g") == {
        "stack-2": {"name": "stack-2", "kind": "vm", "cores": 2, "memory_mib": 4096}}


def test_one_x_before_a_kind_is_one_guest_and_two_x_is_refused() -> None:
    assert stated("- 1x vm mc-2, 4 cores") == {"mc-2": {"name": "mc-2", "kind": "vm", "cores": 4}}
    assert "could not understand" in error("- 2x vm mc-3, 4 cores")


def test_bullets_boxes_and_list_labels() -> None:
    assert stated("list:\n\u00b7 dash-2 ct 512mb\n\u00b7 dash-3 ct 1gb\n") == {
        "dash-2": {"name": "dash-2", "kind": "ct", "memory_mib": 512},
        "dash-3": {"name": "dash-3", "kind": "ct", "memory_mib": 1024}}
    assert stated("todo for friday:\n[ ] ag-2: container, 1 core\n") == {
        "ag-2": {"name": "ag-2", "kind": "ct", "cores": 1}}
    # a to-do that is about no guest is refused, never dropped
    assert "could not understand" in error("[ ] ag-3: container, 1 core\n[x] buy new ssd\n")


def test_settings_written_other_ways() -> None:
    assert stated("the container sp-2 gets 512MB and starts on boot.") == {
        "sp-2": {"name": "sp-2", "kind": "ct", "memory_mib": 512, "onboot": True}}
    assert stated("Give the VM intra-2 the tag 'intern' please.") == {
        "intra-2": {"name": "intra-2", "kind": "vm", "tags": ["intern"]}}
    assert stated("arch-3 needs a 2 TB disk on the tank storage.") == {
        "arch-3": {"name": "arch-3", "disks": [{"slot": "scsi0", "storage": "tank",
                                                "size_gib": 2048}]}}


def test_vague_and_ambiguous_settings_are_refused_with_what_to_write() -> None:
    assert "a size word says no size" in error("gal-2: small container, one core")
    # a bare size after a disk without its size may be that disk's
    message = error("books-2 is a VM with a disk on tank, 200 GB")
    assert 'could not understand "200 GB"' in message


def test_guests_listed_with_their_kind_in_parentheses() -> None:
    assert stated("lab targets: kali-4 (VM, 2 cores) and juice-4 (container, 512 MB)") == {
        "kali-4": {"name": "kali-4", "kind": "vm", "cores": 2},
        "juice-4": {"name": "juice-4", "kind": "ct", "memory_mib": 512}}


def test_a_storage_called_by_its_name() -> None:
    got = stated("New one for the barn cameras: barn-2, VM, a 1 TB disk on the big storage "
                 "called bulk.")
    assert got["barn-2"]["disks"] == [{"slot": "scsi0", "storage": "bulk", "size_gib": 1024}]
