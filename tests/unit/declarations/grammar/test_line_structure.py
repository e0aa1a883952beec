"""Line and document structure around statements (grammar/chatlines.py, sheets.py,
notemarks.py, headforms.py): chat and log prefixes, pasted spreadsheets and wiki tables,
note markup, labelled fields and issue forms. What each states, what is reported as
ignored, and what stays refused."""

from __future__ import annotations

import pytest

from tests.support.grammar import error, ignored, stated

# --- chat and log lines ------------------------------------------------------------------

def test_an_irc_line_drops_its_time_and_nick_and_reports_them() -> None:
    text = "[19:02] <mo_> create a container called irc-t1 with 1 core\n"
    assert stated(text) == {"irc-t1": {"name": "irc-t1", "kind": "ct", "cores": 1}}
    assert "1: ignored as chat prefix: '[19:02] <mo_>'" in ignored(text)


def test_each_chat_line_is_a_message_of_its_own_and_joins_are_events() -> None:
    text = ("*** dee has joined #lab\n"
            "[19:03] <dee> new vm: irc-t2, 2 cores\n"
            "[19:03] <ro> ok\n"
            "[19:04] <dee> also a container: irc-t3, 512 MB\n")
    assert stated(text) == {
        "irc-t2": {"name": "irc-t2", "kind": "vm", "cores": 2},
        "irc-t3": {"name": "irc-t3", "kind": "ct", "memory_mib": 512}}
    said = ignored(text)
    assert "1: ignored as chat event: '*** dee has joined #lab'" in said
    assert "3: ignored as chat prefix: '[19:03] <ro>'" in said


def test_an_action_line_is_the_speakers_own_request() -> None:
    assert stated("* vik wants the vm irc-t4 stopped\n") == {
        "irc-t4": {"name": "irc-t4", "kind": "vm", "state": "stopped"}}
    assert "1: ignored as chat prefix: '* vik'" in ignored("* vik needs a vm named irc-t5\n")


def test_an_incident_log_drops_time_and_speaker() -> None:
    text = "16:40 IC: stop the container irc-t6\n16:41 @comms: tag irc-t6 with inc-9\n"
    assert stated(text) == {"irc-t6": {"name": "irc-t6", "kind": "ct", "state": "stopped",
                                       "tags": ["inc-9"]}}
    assert ignored(text)[:2] == ["1: ignored as chat prefix: '16:40 IC'",
                                 "2: ignored as chat prefix: '16:41 @comms'"]


def test_a_speaker_with_a_digit_is_the_guest_and_a_plain_record_stays_a_record() -> None:
    assert stated("[16:50] irc-t7: a VM with 2 cores\n") == {
        "irc-t7": {"name": "irc-t7", "kind": "vm", "cores": 2}}
    assert stated("irc-t8: a container with 1 core\n") == {
        "irc-t8": {"name": "irc-t8", "kind": "ct", "cores": 1}}


def test_a_markdown_bullet_and_an_html_tag_are_no_chat() -> None:
    assert stated("* irc-t9 is a VM with 2 cores\n") == {
        "irc-t9": {"name": "irc-t9", "kind": "vm", "cores": 2}}
    assert '"<details> irc-t10 is a VM' in error("<details> irc-t10 is a VM with 2 cores\n")


def test_a_vague_request_in_a_chat_line_is_still_refused() -> None:
    assert "as fast as possible" in error("[21:00] <x> make irc-t11 as fast as possible\n")


# --- tables as pasted --------------------------------------------------------------------

def test_a_pasted_spreadsheet_is_a_table() -> None:
    assert stated("name\ttype\tcores\tram\nsh-1\tct\t2\t2 GB\nsh-2\tvm\t4\t8 GB\n") == {
        "sh-1": {"name": "sh-1", "kind": "ct", "cores": 2, "memory_mib": 2048},
        "sh-2": {"name": "sh-2", "kind": "vm", "cores": 4, "memory_mib": 8192}}


def test_a_unit_in_the_header_is_the_unit_of_bare_numbers() -> None:
    assert stated("name\tRAM (GB)\tdisk (GB)\nsh-3\t16\t200\n") == {
        "sh-3": {"name": "sh-3", "memory_mib": 16384,
                 "disks": [{"slot": "scsi0", "size_gib": 200}]}}


def test_a_confluence_table_and_its_status_column() -> None:
    text = "|| Name || Kind || Status ||\n| sh-4 | VM | to be deleted |\n| sh-5 | CT | stop |\n"
    assert stated(text) == {"sh-4": {"name": "sh-4", "kind": "vm", "state": "absent"},
                            "sh-5": {"name": "sh-5", "kind": "ct", "state": "stopped"}}


def test_column_synonyms_name_the_known_columns() -> None:
    text = ("| Guest | Start at boot | Cloned from template | CPU cores | Disk size |\n"
            "|---|---|---|---|---|\n| sh-6 | yes | tmpl-9 | 2 | 40 GB |\n")
    assert stated(text) == {"sh-6": {"name": "sh-6", "onboot": True,
                                     "source": {"clone": "tmpl-9"}, "cores": 2,
                                     "disks": [{"slot": "scsi0", "size_gib": 40}]}}


def test_host_is_the_name_alone_and_the_node_beside_a_name() -> None:
    assert stated("host\tkind\nsh-7\tvm\n") == {"sh-7": {"name": "sh-7", "kind": "vm"}}
    assert stated("name\thost\nsh-8\tpve2\n") == {"sh-8": {"name": "sh-8", "node": "pve2"}}


def test_a_name_that_is_a_word_of_the_grammar_is_still_the_name() -> None:
    assert stated("name\ttags\ncache\tinfra, redis\n") == {
        "cache": {"name": "cache", "tags": ["infra", "redis"]}}


def test_an_unknown_column_or_action_is_refused_with_what_is_known() -> None:
    message = error("| Name | Cores | Backup schedule |\n|---|---|---|\n| sh-9 | 2 | daily |\n")
    assert "'backup schedule'" in message and "cores" in message and "template" in message
    message = error("name\taction\nsh-10\tmigrate live\n")
    assert "'migrate live'" in message and "to be deleted" in message


def test_a_pipe_row_of_self_describing_cells() -> None:
    text = "REQ-77 | container | sh-11 | 2 cores | 1024 MB RAM\n"
    assert stated(text) == {"sh-11": {"name": "sh-11", "kind": "ct", "cores": 2,
                                      "memory_mib": 1024}}
    assert "1: ignored as form metadata: 'REQ-77'" in ignored(text)
    # two cells that could be the name: which one is the guest is not said
    assert "sh-12" in error("sh-12 | sh-13 | 2 cores\n")


# --- note markup -------------------------------------------------------------------------

def test_wiki_links_are_names_and_tag_lines_and_see_also_are_reported() -> None:
    text = "#homelab #media\n[[nm-1|Media box]] is a VM with 4 cores. See [[hardware]].\n"
    assert stated(text) == {"nm-1": {"name": "nm-1", "kind": "vm", "cores": 4}}
    said = ignored(text)
    assert "1: ignored as note tags: '#homelab #media'" in said
    assert "2: ignored as link: 'See [[hardware]].'" in said


def test_an_arrow_and_checklist_items() -> None:
    assert stated("- [[nm-2]] \u2192 container, 1 GB RAM\n- [x] delete the VM nm-3\n") == {
        "nm-2": {"name": "nm-2", "kind": "ct", "memory_mib": 1024},
        "nm-3": {"name": "nm-3", "kind": "vm", "state": "absent"}}


def test_a_template_checklist_in_the_first_person_is_form_metadata() -> None:
    text = "- [x] I searched existing issues\n\nA VM named nm-4 with 2 cores, please.\n"
    assert stated(text) == {"nm-4": {"name": "nm-4", "kind": "vm", "cores": 2}}
    assert "1: ignored as form metadata: '- [x] I searched existing issues'" in ignored(text)


# --- labelled fields and forms -----------------------------------------------------------

def test_an_emphasised_form_is_a_form() -> None:
    assert stated("**Name:** lf-1\n**Type:** container\n**Memory:** 1 GB\n") == {
        "lf-1": {"name": "lf-1", "kind": "ct", "memory_mib": 1024}}


def test_a_label_before_a_statement_is_dropped_and_reported() -> None:
    text = "*Decision:* decommission the VM lf-2.\n*Owner:* J. Doe\n"
    assert stated(text) == {"lf-2": {"name": "lf-2", "kind": "vm", "state": "absent"}}
    assert ignored(text) == ["1: ignored as label: 'Decision:'",
                             "2: ignored as form metadata: 'Owner: J. Doe'"]


def test_a_label_over_bare_settings_is_refused_with_the_label_quoted() -> None:
    assert "'Agreed'" in error("Agreed: 4 cores.\n")


def test_metadata_after_a_sentence_on_the_same_line() -> None:
    text = "Order: container lf-3, 2 cores. Cost centre: Sales.\n"
    assert stated(text) == {"lf-3": {"name": "lf-3", "kind": "ct", "cores": 2}}
    assert "1: ignored as form metadata: 'Cost centre: Sales.'" in ignored(text)


def test_metadata_naming_a_guest_is_not_dropped() -> None:
    assert "lf-4" in error("Reason: lf-4 is too slow\nlf-5 is a VM with 2 cores.\n")


def test_an_issue_form_of_headings() -> None:
    text = ("### Describe the VM you need\nA container for the wiki.\n\n### Name\nlf-6\n\n"
            "### Resources\n2 cores, 2 GB RAM\n")
    assert stated(text) == {"lf-6": {"name": "lf-6", "kind": "ct", "cores": 2,
                                     "memory_mib": 2048}}
    assert any("Describe the VM you need" in i for i in ignored(text))


def test_an_issue_form_whose_description_says_more_is_read_as_prose() -> None:
    assert error("### Name\nlf-7\n\n### Description\nA VM with 4 cores for lf-8.\n")


@pytest.mark.parametrize("text", [
    "Qty 2 VMs: lf-9 and lf-10, each 2 cores.\n",
    "PO-1\nItem 1: a VM named lf-9 with 2 cores.\nItem 2: a VM named lf-10 with 2 cores.\n",
])
def test_purchase_order_lines(text: str) -> None:
    assert set(stated(text)) == {"lf-9", "lf-10"}


# --- a letter in one paragraph -----------------------------------------------------------

def test_greeting_courtesy_and_sign_off_in_one_paragraph_are_reported() -> None:
    text = ("Dear tech team, thank you always for your support. Could you please create a "
            "VM named ltr-1 with 2 cores? With thanks, Margaret\n")
    assert stated(text) == {"ltr-1": {"name": "ltr-1", "kind": "vm", "cores": 2}}
    assert ignored(text)[:3] == [
        "1: ignored as greeting: 'Dear tech team,'",
        "1: ignored as signature: 'With thanks, Margaret'",
        "1: ignored as courtesy: 'thank you always for your support.'"]


def test_a_named_greeting_and_an_apology_before_but() -> None:
    assert stated("Hi Ana, ltr-2 is a container with 1 core. Kind regards, Tom Smith\n") == {
        "ltr-2": {"name": "ltr-2", "kind": "ct", "cores": 1}}
    text = "I am sorry to trouble you, but please delete the VM ltr-3.\n"
    assert stated(text) == {"ltr-3": {"name": "ltr-3", "kind": "vm", "state": "absent"}}
    assert "1: ignored as courtesy: 'I am sorry to trouble you, but'" in ignored(text)


def test_courtesy_that_says_something_is_read_and_a_guest_is_never_greeted_away() -> None:
    # "and please delete ..." is no courtesy: the sentence is read (and refused here)
    assert "Thanks" in error("Thanks for the help, and please delete ltr-4.\n")
    assert stated("Hey ltr-5, is a VM\n") == {"ltr-5": {"name": "ltr-5", "kind": "vm"}}
    assert stated("Dear team,\n\nKind regards, Piotr\n") == {}


# --- names in quotes after a kind, a name given as a field ----------------------------------

def test_a_quoted_name_after_a_kind_is_the_name_unless_it_is_a_word_of_the_grammar() -> None:
    assert stated("- VM 'qn-7' \u2014 2 cores\n") == {
        "qn-7": {"name": "qn-7", "kind": "vm", "cores": 2}}
    assert stated("need a lxc `qn-8` with 1 GB ram\n") == {
        "qn-8": {"name": "qn-8", "kind": "ct", "memory_mib": 1024}}
    assert '"running"' in error("the container 'running' has 2 cores\n")


def test_a_record_giving_its_kind_then_its_name_as_a_field() -> None:
    assert stated("Virtual machine, name nf-7, 4 cores.\n") == {
        "nf-7": {"name": "nf-7", "kind": "vm", "cores": 4}}
    assert stated("PO-9\nItem 1: Container, name nf-8, 1 core.\nRequested by: Finance\n") == {
        "nf-8": {"name": "nf-8", "kind": "ct", "cores": 1}}


# --- chat statuses, chat lead-ins, a pronoun opening a list item --------------------------

def test_a_status_word_opening_a_message_is_chatter() -> None:
    text = "[10:00] <ana> +1\n15:15 IC: resolved. Follow-up: the container ps-1 must be removed.\n"
    assert stated(text) == {"ps-1": {"name": "ps-1", "kind": "ct", "state": "absent"}}
    said = ignored(text)
    assert "1: ignored as chat status: '+1'" in said
    assert "2: ignored as chat status: 'resolved.'" in said
    assert "2: ignored as label: 'Follow-up:'" in said


def test_a_chat_lead_in_before_a_guest() -> None:
    assert stated("<mira> quick one: ps-2 vm, vlan 66\n") == {
        "ps-2": {"name": "ps-2", "kind": "vm", "networks": [{"slot": "net0", "vlan": 66}]}}


def test_a_pronoun_opening_a_list_item_is_the_guest_of_the_item_before() -> None:
    assert stated("- the container ps-3 has 1 core\n- it has 2 GB RAM\n- it starts on boot\n") == {
        "ps-3": {"name": "ps-3", "kind": "ct", "cores": 1, "memory_mib": 2048, "onboot": True}}
    assert stated("- ps-4 and ps-5 are VMs\n- they have 2 cores\n") == {
        "ps-4": {"name": "ps-4", "kind": "vm", "cores": 2},
        "ps-5": {"name": "ps-5", "kind": "vm", "cores": 2}}
    # never across a heading or a paragraph
    assert "'it'" in error("- ps-6 is a VM\n\n# Other\n\n- it has 2 cores\n")
    assert "'it'" in error("- ps-6 is a VM\n\nps-7 is a VM.\n\n- it has 2 cores\n")


# --- chat headers, WhatsApp and ISO stamps, CSV exports ------------------------------------

def test_slack_discord_and_teams_headers_are_reported() -> None:
    text = ("Alice Chen  10:42 AM\nplease create a container named hd-1 with 1 core\n\n"
            "kmw \u2014 Today at 21:04\nhd-2 is a vm\n\n[10:45 AM] Smith, John\nstop the vm hd-3\n")
    assert stated(text) == {"hd-1": {"name": "hd-1", "kind": "ct", "cores": 1},
                            "hd-2": {"name": "hd-2", "kind": "vm"},
                            "hd-3": {"name": "hd-3", "kind": "vm", "state": "stopped"}}
    said = ignored(text)
    assert "1: ignored as chat header: 'Alice Chen  10:42 AM'" in said
    assert "7: ignored as chat header: '[10:45 AM] Smith, John'" in said


def test_a_schedule_line_is_no_chat_header() -> None:
    assert "Nightly" in error("Nightly 3:00 AM\n\nhd-4 is a VM.\n")


def test_whatsapp_and_iso_stamped_lines() -> None:
    assert stated("28/11/26, 21:04 - Ana Silva: please create a VM named hd-5\n") == {
        "hd-5": {"name": "hd-5", "kind": "vm"}}
    assert stated("2026-11-28T21:04:12Z ops: stop the container hd-6\n") == {
        "hd-6": {"name": "hd-6", "kind": "ct", "state": "stopped"}}


def test_a_csv_export_is_a_table_only_when_its_header_names_columns() -> None:
    assert stated('name;type;RAM (GB)\nhd-7;ct;2\nhd-8;vm;"4"\n') == {
        "hd-7": {"name": "hd-7", "kind": "ct", "memory_mib": 2048},
        "hd-8": {"name": "hd-8", "kind": "vm", "memory_mib": 4096}}
    assert "backup" in error("name,cores,backup\nhd-9,2,nightly\n")


def test_a_commentary_column_is_an_aside_and_a_description_column_the_description() -> None:
    text = ("| Name | Cores | Notes | Purpose |\n|---|---|---|---|\n"
            "| tc-1 | 2 | for the wiki | docs |\n")
    assert stated(text) == {"tc-1": {"name": "tc-1", "cores": 2}}
    assert "3: ignored as context: '(notes for the wiki docs)'" in ignored(text)
    assert "after March" in error("| Name | Cores | Notes |\n|---|---|---|\n"
                                  "| tc-2 | 2 | delete after March |\n")
    assert stated("name\tdescription\ntc-3\twiki server\n") == {
        "tc-3": {"name": "tc-3", "description": "wiki server"}}


def test_a_bare_time_before_an_order_may_be_a_schedule_and_is_refused() -> None:
    assert "22:00" in error("22:00 stop the VM sched-1\n")
    assert "22:00" in error("22:00 web-2: stop it\n")


@pytest.mark.parametrize("text", [
    '[21:00] <x> make web-1 as fast as possible\n',
    '14:02 IC: give api-9 enough RAM\n',
    '| Name | Cores | Backup schedule |\n|---|---|---|\n| bk-1 | 2 | nightly |\n',
    'name\taction\nold-z\tmigrate live to pve2\n',
    'Decision: keep dns-4 running forever, no matter what\n',
    "VM, name 'running', 2 cores, as fast as possible\n",
    'Backup 02:00\nNightly 03:00\n',
    'name,cores,backup\ncsv-4,2,nightly\n',
    '| Name | Type | Notes |\n|---|---|---|\n| tn-3 | VM | delete after March |\n',
    '22:00 stop the VM sched-2\n',
    '23:30 web-sched-3: delete it\n',
])
def test_impossible_requests_in_chat_tables_and_forms_are_refused(text: str) -> None:
    assert error(text)
