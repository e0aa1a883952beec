"""Round 9's line and document structure (grammar/linemarks.py, proxkeys.py,
yamlblocks.py, chatlines.py, sheets.py): what each class states, what is reported as
ignored (nothing is dropped in silence), and what stays refused."""

from __future__ import annotations

import pytest

from tests.support.grammar import error, ignored, stated, stated_and_ignored

# --- chat headers, app lines, reactions ------------------------------------------------

def test_a_header_of_a_bracketed_time_and_a_person_is_dropped_and_reported() -> None:
    text = "[Tue 07:45] Hana Sato\nthe VM lab-ad9 needs 4 cores\n"
    assert stated(text) == {"lab-ad9": {"name": "lab-ad9", "kind": "vm", "cores": 4}}
    assert ignored(text) == ["1: ignored as chat header: '[Tue 07:45] Hana Sato'"]


def test_a_writer_with_a_role_and_a_telegram_header_are_headers() -> None:
    for header in ("Hana Sato (Guest) — Today at 7:45 AM", "Hana Sato, [01.12.26 07:45]"):
        assert stated(f"{header}\ndelete the container tmp-q1\n") == {
            "tmp-q1": {"name": "tmp-q1", "kind": "ct", "state": "absent"}}, header


def test_a_header_is_no_guest_and_words_of_the_grammar_are_no_writer() -> None:
    # the writer's name is never read as a guest's
    assert "hana" not in stated("[07:45] Hana\nweb-q2 is a VM\n")
    # "Stop Backup" is an order, not a person: nothing is dropped, the line is refused
    assert "Backup" in error("[07:45] Stop Backup\nweb-q3 is a VM\n")


def test_chat_app_lines_and_reactions_are_reported() -> None:
    text = ("01/12/26, 08:00 - Ana: <video omitted>\n"
            "01/12/26, 08:01 - Ana: VM cam-q4 with 2 cores (edited)\n"
            "01/12/26, 08:02 - Rui: 🎉 3\n")
    assert stated(text) == {"cam-q4": {"name": "cam-q4", "kind": "vm", "cores": 2}}
    said = ignored(text)
    assert "1: ignored as chat event: '<video omitted>'" in said
    assert "2: ignored as chat event: '(edited)'" in said
    assert "3: ignored as chat event: '🎉 3'" in said


def test_a_reaction_before_it_binds_to_the_one_guest_of_the_message_before() -> None:
    text = ("01/12/26, 08:00 - Ana: the container old-q5 has 1 core\n"
            "01/12/26, 08:01 - Rui: 👌 remove it\n")
    assert stated(text) == {"old-q5": {"name": "old-q5", "kind": "ct", "cores": 1,
                                       "state": "absent"}}
    assert "2: ignored as reaction: '👌'" in ignored(text)


def test_it_after_a_message_naming_two_guests_is_refused() -> None:
    text = ("01/12/26, 08:00 - Ana: VMs old-q6 and old-q7 have 1 core\n"
            "01/12/26, 08:01 - Rui: 👍 delete it\n")
    assert "'it' does not refer to any guest" in error(text)


# --- glyphs, toggles, editorial remarks ------------------------------------------------

def test_an_icon_before_a_line_is_a_marker_and_reported() -> None:
    text = "📌 ct syslog-q8 with 256 MB RAM\n"
    assert stated(text) == {"syslog-q8": {"name": "syslog-q8", "kind": "ct",
                                          "memory_mib": 256}}
    assert ignored(text) == ["1: ignored as marker: '📌'"]


def test_a_cross_is_no_marker_and_stays_refused() -> None:
    assert "could not find which guest" in error("❌ VM maybe-q9 with 2 cores\n")


def test_a_toggle_is_a_heading_over_its_indented_lines() -> None:
    text = "▾ Backups\n    pbs-q10 is a VM with 2 cores\n    it starts on boot\n"
    assert stated(text) == {"pbs-q10": {"name": "pbs-q10", "kind": "vm", "cores": 2,
                                        "onboot": True}}


def test_editorial_remarks_and_corrections_are_dropped_and_reported() -> None:
    text = "[typed up from a photo] VM cad-q11: 6 cores (not 4) [sic]\n"
    assert stated(text) == {"cad-q11": {"name": "cad-q11", "kind": "vm", "cores": 6}}
    assert ignored(text) == ["1: ignored as remark: '[typed up from a photo]'",
                             "1: ignored as remark: '[sic]'",
                             "1: ignored as correction: '(not 4)'"]


def test_a_bracket_that_declares_is_no_remark() -> None:
    # a kind, a size or a word of the grammar in the bracket: it is read, and refused
    assert "[VM q12-a, 2 cores]" in error("[VM q12-a, 2 cores] q12-b is a VM\n")
    assert "[2 cores]" in error("q12-c is a VM [2 cores]\n")


def test_an_arrow_before_a_preposition_is_dropped() -> None:
    text = "VM arc-q13: 1 TB disk [arrow] on tank\n"
    assert stated(text) == {"arc-q13": {"name": "arc-q13", "kind": "vm", "disks": [
        {"slot": "scsi0", "storage": "tank", "size_gib": 1024}]}}
    assert "1: ignored as remark: '[arrow]'" in ignored(text)


# --- cards, checklists, wiki pages -------------------------------------------------------

def test_a_card_and_its_checklist_of_one_guest() -> None:
    text = ("Card: Accounting box\nChecklist (1/3)\n[x] VM acct-q14\n[ ] 4 cores\n"
            "[ ] 8 GB RAM\n")
    assert stated(text) == {"acct-q14": {"name": "acct-q14", "kind": "vm", "cores": 4,
                                         "memory_mib": 8192}}
    said = ignored(text)
    assert "1: ignored as card title: 'Card: Accounting box'" in said
    assert "2: ignored as checklist heading: 'Checklist (1/3)'" in said


def test_bare_settings_after_boxes_of_two_guests_are_refused() -> None:
    text = "- [ ] VM q15-a\n- [ ] VM q15-b\n- [ ] 2 cores\n"
    assert "expected the kind of guest and its name" in error(text)


def test_a_card_title_that_declares_keeps_its_declaration() -> None:
    text = "Card: the container q16 should be stopped\n"
    assert stated(text) == {"q16": {"name": "q16", "kind": "ct", "state": "stopped"}}
    assert ignored(text) == ["1: ignored as label: 'Card:'"]


def test_card_labels_and_wiki_markup() -> None:
    text = ("== Board ==\n''Note:'' the VM kiosk-q17 is retired. Delete it.\n\n"
            "Comment on card: VM '''pos-q18''' gets 2 cores\n")
    assert stated(text) == {
        "kiosk-q17": {"name": "kiosk-q17", "kind": "vm", "state": "absent"},
        "pos-q18": {"name": "pos-q18", "kind": "vm", "cores": 2}}
    assert "4: ignored as label: 'Comment on card:'" in ignored(text)


def test_page_chrome_before_a_statement_is_reported() -> None:
    text = "Last edited by Jo · VM tv-q19: 2 cores.\n"
    assert stated(text) == {"tv-q19": {"name": "tv-q19", "kind": "vm", "cores": 2}}
    assert ignored(text) == ["1: ignored as page chrome: 'Last edited by Jo ·'"]


# --- key: value with Proxmox's option names ----------------------------------------------

def test_a_yaml_block_is_one_guest() -> None:
    text = "name: q20\ntype: ct\ncores: 2\nmemory: 1 GB\nautostart: false\ntags: [ops, lab]\n"
    assert stated(text) == {"q20": {"name": "q20", "kind": "ct", "cores": 2,
                                    "memory_mib": 1024, "onboot": False, "tags": ["lab", "ops"]}}


def test_an_unknown_key_of_a_yaml_block_is_refused_with_the_known_keys() -> None:
    said = error("name: q21\nkind: vm\nowner: finance\n")
    assert "'owner' is not a setting the grammar knows" in said
    assert "known keys: name, agent" in said and "vmid" in said


def test_proxmox_keys_inline() -> None:
    assert stated("q22 is a VM, vmid: 622, node: pve3, bios: ovmf, state: stopped.\n") == {
        "q22": {"name": "q22", "kind": "vm", "vmid": 622, "node": "pve3", "bios": "ovmf",
                "state": "stopped"}}
    assert stated("q23 (vm): disks: virtio0 20 GB on local-zfs.\n") == {
        "q23": {"name": "q23", "kind": "vm", "disks": [
            {"slot": "virtio0", "storage": "local-zfs", "size_gib": 20}]}}


def test_a_bare_memory_number_is_refused() -> None:
    assert "memory: 2048" in error("name: q24\nkind: vm\nmemory: 2048\n")


# --- pasted sheets -------------------------------------------------------------------------

def test_a_csv_with_unit_headers_and_quoted_tags() -> None:
    text = 'name,kind,ram_mb,tags\nq25,ct,512,"dns,windows"\n'
    assert stated(text) == {"q25": {"name": "q25", "kind": "ct", "memory_mib": 512,
                                    "tags": ["dns", "windows"]}}


def test_a_lead_in_and_a_header_remark_are_reported() -> None:
    text = "Copied from the sheet:\nname;cores (col C)\nq26;2\nq27;4\n"
    assert stated(text) == {"q26": {"name": "q26", "cores": 2},
                            "q27": {"name": "q27", "cores": 4}}
    assert ignored(text)[:2] == ["1: ignored as lead-in: 'Copied from the sheet:'",
                                 "2: ignored as remark: '(col C)'"]


def test_headerless_rows_of_self_describing_cells() -> None:
    assert stated("vm;q28;2 cores\nct;q29;1 core\n") == {
        "q28": {"name": "q28", "kind": "vm", "cores": 2},
        "q29": {"name": "q29", "kind": "ct", "cores": 1}}
    # two bare sizes stay a guess, refused as anywhere else
    assert "two sizes without a noun" in error("ct,q30,512MB,8GB\nct,q31,256MB,4GB\n")


def test_a_mapped_device_in_proxmox_words() -> None:
    assert stated("VM q32 gets the PCI mapping gpu-q as hostpci1.\n") == {
        "q32": {"name": "q32", "kind": "vm", "pci_devices": [
            {"slot": "hostpci1", "mapping": "gpu-q"}]}}
    # a slot after "on" is the slot too (grammar.attributes9 reads both); a PCI mapping
    # in a USB slot is refused, naming the slot
    assert stated("VM q33 with USB mapping d-q on usb0\n") == {
        "q33": {"name": "q33", "kind": "vm", "usb_devices": [
            {"slot": "usb0", "mapping": "d-q"}]}}
    assert "passthrough slot usb0 is wrong" in error("VM q33 with PCI mapping gpu-q as usb0\n")


def test_a_line_of_labelled_fields_is_one_guest() -> None:
    text = "Please find below the details: VM name - q34, CPU - 2 core, SSD - 50 GB\n"
    assert stated(text) == {"q34": {"name": "q34", "kind": "vm", "cores": 2, "disks": [
        {"slot": "scsi0", "size_gib": 50}]}}
    assert ignored(text) == ["1: ignored as lead-in: 'Please find below the details:'"]
    assert stated("CT: ns-q35. Memory: 64 MB. VLAN: 7.\n") == {
        "ns-q35": {"name": "ns-q35", "kind": "ct", "memory_mib": 64,
                "networks": [{"slot": "net0", "vlan": 7}]}}


def test_a_line_of_fields_with_an_unknown_label_stays_refused() -> None:
    assert "colour" in error("VM name - q36, colour - blue\n")


def test_decorating_emoji_are_reported_and_signs_are_not_dropped() -> None:
    text = "Morning 🙂 the container q37 needs 1 core\n"
    assert stated(text) == {"q37": {"name": "q37", "kind": "ct", "cores": 1}}
    assert "1: ignored as emoji: '🙂'" in ignored(text)
    assert "⚠" in error("⚠️ the container q38 needs 1 core\n")


def test_more_header_forms_and_schedules_that_are_no_header() -> None:
    for header in ("Hana Sato, 7:45 AM", "Hana Sato (07:45)", "@hana 07:45",
                   "Hana Sato, Tue 07:45"):
        assert stated(f"{header}\nstop the VM q39\n") == {
            "q39": {"name": "q39", "kind": "vm", "state": "stopped"}}, header
    # a day, a month or a part of the day before a time is a schedule: refused
    for when in ("Sunday 03:00", "Saturday 3:00 AM", "March 3 10:00", "Tonight 22:00"):
        assert error(f"{when}\nstop the VM q40\n").startswith("t.md:1: "), when


def test_marks_inside_quotes_are_kept_as_written() -> None:
    text = 'q41 is a VM described as "old box [sic] (was 2 GB) (?) [[wiki]] => x"\n'
    assert stated(text) == {"q41": {"name": "q41", "kind": "vm",
                                    "description": "old box [sic] (was 2 GB) (?) [[wiki]] => x"}}


def test_page_markup_lines_and_a_title_over_a_list() -> None:
    text = "<aside>\nSpares, shelf section:\n- VM q42, 1 core\n</aside>\n"
    assert stated(text) == {"q42": {"name": "q42", "kind": "vm", "cores": 1}}
    assert ignored(text) == ["1: ignored as markup: '<aside>'",
                             "2: ignored as title: 'Spares, shelf section:'",
                             "4: ignored as markup: '</aside>'"]


def test_group_chat_events_keycaps_arrows_and_callouts() -> None:
    text = ("06/12/26, 09:00 - Lin added Kai\n06/12/26, 09:01 - Kai: VM q43 with 1 core\n"
            "Lin Wu reacted with 👍\n")
    assert stated(text) == {"q43": {"name": "q43", "kind": "vm", "cores": 1}}
    assert ignored(text)[0] == "1: ignored as chat event: '06/12/26, 09:00 - Lin added Kai'"
    assert stated("3️⃣ VM q44 with 1 core\n→ VM q45 with 2 cores\n") == {
        "q44": {"name": "q44", "kind": "vm", "cores": 1},
        "q45": {"name": "q45", "kind": "vm", "cores": 2}}
    text = "> [!tip] Later\n> the container q46 needs 2 cores\n"
    assert stated(text) == {"q46": {"name": "q46", "kind": "ct", "cores": 2}}
    assert ignored(text) == ["1: ignored as callout: '[!tip]'", "1: ignored as title: 'Later'"]


def test_card_fields_that_say_nothing_of_a_guest() -> None:
    text = "Bucket: Backlog\nStory points: 5\nVM q47 with 2 cores\n"
    assert stated(text) == {"q47": {"name": "q47", "kind": "vm", "cores": 2}}
    assert ignored(text) == ["1: ignored as card field: 'Bucket: Backlog'",
                             "2: ignored as card field: 'Story points: 5'"]


def test_yaml_comments_and_a_key_over_a_list_of_guests() -> None:
    text = "guests:\n  - name: q48\n    # the small one\n    cores: 1  # one is enough\n"
    assert stated(text) == {"q48": {"name": "q48", "cores": 1}}
    assert ignored(text) == ["1: ignored as YAML key: 'guests:'",
                             "3: ignored as comment: '# the small one'",
                             "4: ignored as comment: '# one is enough'"]
    # a key that says a kind is not dropped: the list's guests would lose it
    assert "containers" in error("containers:\n  - name: q49\n    cores: 1\n")


@pytest.mark.parametrize("label", ["Zebra", "Progress", "Status", "Urgent"])
def test_a_one_word_label_dropped_before_a_statement_is_reported(label: str) -> None:
    # it was dropped without a word before (a single word was taken for a courtesy)
    guests, notes = stated_and_ignored(f"{label}: the VM x1 is stopped.\n")
    assert guests == {"x1": {"name": "x1", "kind": "vm", "state": "stopped"}}
    assert notes == [f"t.md:1: ignored as context: '{label}'"]


def test_a_metadata_field_whose_value_says_a_kind_of_guest_is_read_not_dropped() -> None:
    # "Updated: container x1 stopped" was dropped whole as form metadata
    guests, notes = stated_and_ignored("Updated: container x1 stopped\n")
    assert guests == {"x1": {"name": "x1", "kind": "ct", "state": "stopped"}}
    assert notes == ["t.md:1: ignored as context: 'Updated'"]
    # a date there is still the card's field
    assert stated_and_ignored("Updated: 2026-11-30\n\nx1 is a VM.\n")[1] == [
        "t.md:1: ignored as card field: 'Updated: 2026-11-30'"]


def test_a_description_field_under_a_form_title_is_the_forms() -> None:
    # round 9's card reader took "Description:" as a card label and the form was lost
    text = "Ticket #4410\nDescription: stop the VM old-pager.\nDate: 3 March\n"
    assert stated_and_ignored(text) == (
        {"old-pager": {"name": "old-pager", "kind": "vm", "state": "stopped"}},
        ["t.md:1: ignored as form metadata: 'Ticket #4410'",
         "t.md:3: ignored as form metadata: 'Date: 3 March'"])
