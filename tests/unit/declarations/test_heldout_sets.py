"""Issue 13's held-out measurement, second to ninth sets (the first is
``test_heldout.py``): notes written by engineers the grammar was never shown to, one
folder per set (``heldout2/`` .. ``heldout9/``, each with ``notes.jsonl`` and
``impossible.jsonl``), compiled offline by the grammar alone. ``pytest -s`` prints the
figures; ``bench/heldout.py --set NAME`` prints them with every refused and wrong note.

Only the two things the issue fixes are asserted: nothing compiles wrong and every
impossible request is refused. The exact rate is printed, not asserted.

**heldout2**: 176 notes in 12 styles (nervous first-time homelabber, terse changelog,
German admin writing English, Reddit post, MSP runbook, Slack message, README inventory,
migration plan, onboarding checklist, ticket comment, sysadmin e-mail, forum help post)
and 24 impossible requests. When written: 29 of 176 exact (16.5 %), 146 refused, 1 wrong
("yo, ci-cache container -> 8 GB RAM please" also declared a container named "yo"; chat
greetings are openers since then). After the third round of grammar work, which used
this set as its development set (so it is no longer held out): 53 of 176 exact (30.1 %),
123 refused, 0 wrong; 24 of 24 refused.

**heldout3**: 152 notes in 12 styles (homelab YouTuber's video notes, school IT
inventory, law firm's outsourced IT ticket thread, Proxmox forum help post, ansible TODO
list, self-hoster's blog changelog, CTO's Slack one-liners, non-native speaker's e-mail,
Markdown table inventory, handover document, teenager's game servers, research lab
notebook) and 24 impossible requests. When written: 26 of 152 exact (17.1 %), 124
refused, 2 wrong: "kill the vm investor-demo, done with it" also deleted a VM named
"done" (never read as a name since then: the note is refused), and "truenas, a VM, 8
cores, 32 GB RAM, running on pve1." states ``state: running`` as well as the node, the
grammar's documented reading after the guest (as the corpus, docs/declarations.md and
the second set's author have it), which the lead accepted: its expectation says so now.
After grammar round 3 (trained on the second set, never on this one): 48 of 152 exact
(31.6 %), 104 refused, 0 wrong; 24 of 24 refused.

**heldout4**: 166 notes in 15 styles (dental practice office manager, Discord server
admin, consultant's statement of work, university lab instructions, home-automation wiki,
nonprofit volunteer, DevOps commit messages, retired engineer's careful prose, sales
engineer's demo checklist, family home-server README, meeting minutes, standup update,
Jira story, French speaker's English, Spanish speaker's English), all styles no earlier
set used, and 28 impossible requests in the same styles. 10 notes name a node without
the word "node" ("on pve-nuc"); they carry ``"facts_needed": true`` and expect the node.
When written (grammar at main b4bda29): 14 of 166 exact (8.4 %), 152 refused, 0 wrong;
28 of 28 refused. None of the 10 facts_needed notes compiled (all refused).

**heldout5**: 167 notes in 14 styles (veterinary clinic receptionist, church volunteer,
e-sports team manager, landlord's smart-building notes, podcast producer, freelance web
designer's client notes, Terraform-minded engineer's prose, Hacker News comment, Mastodon
thread, support chatbot transcript, Kanban card, incident postmortem action items, Italian
speaker's English, teacher's classroom lab plan), all styles no earlier set used, and 28
impossible requests in the same styles. 5 notes name a node without the word "node" ("on
pve-basement"); they carry ``"facts_needed": true`` and expect the node. When written
(grammar at main 44b8677): 36 of 167 exact (21.6 %), 131 refused, 0 wrong; 28 of 28
refused. None of the 5 facts_needed notes compiled (all refused). The refusals by the
grammar's first message: 49 could not find the guest behind a fronted phrase, a chat
speaker ("User:", "Bot:") or a thread number ("5/"); 35 a trailing remark or reason
after the settings ("..., the kids complain about lag"); 25 a lead-in word or label read
as a guest's name ("Dr. Patel ...", "Client: ...", "AI-2: ...", "DONE? ..."); 4 vague
words; 4 verb-first requests it does not take ("Tag X and Y with ..."); 3 number words
outside a measure; 3 time or condition clauses; 3 a bare "on NAME"; 2 a count or
description before the names; 3 others (an IP after "static IP,", a table column "site",
"DOING - loki" read as a range). After grammar round 5: 39 of 167 exact (23.4 %); after
round 6 (which used this set for development, by classes of phrasing): 71 of 167 exact
(42.5 %), 96 refused, 0 wrong; 28 of 28 refused.

**heldout6**: 165 notes in 16 styles (bakery owner's shop-IT notes, hospital ward IT
request form, startup founder's tweet-storm, sysadmin's shell-history comments, Dutch
speaker's English, Polish speaker's English, student's homework lab write-up,
change-advisory-board request, pentester's lab set-up, photographer's NAS notes, CI
engineer's build-farm notes, wedding planner's hosting notes, farmer's sensor-hub notes,
e-mail chain with "> " quoting, voice-dictation transcript, grocery-list-style note), all
styles no earlier set used, and 28 impossible requests in the same styles. 6 notes name a
node without the word "node" ("on pve-barn"); they carry ``"facts_needed": true`` and
expect the node. When written (grammar at main ae53027): 42 of 165 exact (25.5 %), 123
refused, 0 wrong; 27 of 28 impossible requests refused. The first measurement had 41
exact and 1 wrong ("Also the VM archief should have a second network card, on vmbr1."
compiled to net0 and net1); the expectation, not the grammar, was at fault: a stated NIC
list is the complete set (proxmox/devices.py), so "a second network card" keeps net0,
and that expectation and the one of the same phrasing ("Add a second NIC to kali-box
...", refused) now list net0. The impossible request not refused: "# copy the host's
network config over to the new node pve-c" (a shell comment) compiles to no guests at
all, the line taken as a Markdown title and its words dropped (xfail below). None of the
6 facts_needed notes compiled (all refused). The refusals by the grammar's first message:
24 a lead-in label, form field, ticket or e-mail header or step label before the guest
("Request type:", "CHG-2291 |", "Re:", "From:", "Q6:", "todo for saturday:"); 21 a
trailing remark, reason or aside ("..., so the DHCP reservation works", "felt good."); 12
a first-person, question or request opener ("My nephew set up ...", "We would like to
have ...", "Is it possible that ...", "Can the X server have ..."); 11 a Markdown heading
that states settings (every "# ..." shell comment, "## Lab 5 setup"); 10 a verb or idiom
("remove the X VM", "get rid of", "Tag X and Y with", "Pause", "Enable deletion
protection", "Resize CPU of", "call it X"); 7 a time or condition clause ("when the
server boots", "until ...", "between engagements"); 6 a description before the name ("The
camera recorder cam-nvr ..."); 6 "> " quoted e-mail lines read as declarations; 5 a
tweet-thread number ("1/"); 4 a count or description before the names ("Three build
agents, ba-01, ba-02 and ba-03, each ...", "1x vm"); 4 a relative or vague amount ("needs
more memory, make it 2 GB", "instead of 4 GB"); 3 a bare "on NAME"; 3 list structure
("·" and "[ ]" items, lines without markers); 2 unit shorthand ("gets 512MB", "2c/4g"); 2
a form or table layout ("Specs: 2 vCPU / 4 GB / 40 GB", a Field | Value table); 3 others
(a tag in quotes, "tag 'intern'", refused as the tag "'intern'"; "on the tank storage";
"router at" for the gateway). After grammar round 7 (which used this set for
development, by classes of phrasing): 108 of 165 exact (65.5 %), 57 refused, 0 wrong;
28 of 28 refused (the shell comment is read as the sentence it is, and refused).

**heldout7**: 190 notes in 16 styles (gym owner's notes, public-library IT volunteer,
Portuguese speaker's English, Japanese speaker's polite English, IRC log with timestamps
and nicks, purchase order, spreadsheet pasted as tab-separated rows, restaurant owner's
SMS, Obsidian daily note with [[links]], filled-in GitHub issue template, Confluence page
with tables, hackathon README, museum archivist's formal prose, auto-repair shop,
choir director, incident-channel log), all styles no earlier set used, and 32 impossible
requests in the same styles. 6 notes name a node without the word "node" ("on
pve-hall"); they carry ``"facts_needed": true`` and expect the node (a seventh, "a
container on local-lvm", names a storage the same way and lacks the flag: an oversight
of the author, left as measured). When written (grammar at main f5cd760): 45 of 190
exact (23.7 %), 144 refused, 1 wrong; 32 of 32 impossible requests refused. The wrong
note (xfail below): "h3. Containers" over "* statuspage — 1 core, 512 MB RAM" bullets,
a Confluence heading, compiles to a container named "h3" and the two listed containers
as VMs. None of the 6 facts_needed notes compiled (all refused). By style, exact of
notes: auto-repair shop 7/12, gym owner 7/12, choir director 6/12, hackathon README
4/12, library volunteer 4/12, Confluence 3/12 (1 wrong), Obsidian 3/12, Portuguese 3/12,
restaurant SMS 3/12, GitHub template 2/12, Japanese polite 2/12, purchase order 1/12,
and 0 of the incident log (10), IRC log (12), museum archivist (12) and tab-separated
(12). The refusals by kind of phrasing (the grammar's first message): 22 a chat or log
prefix ("[21:04] <kmw>", "* fenn", "14:02 IC:"); 19 a label, form field or header before
the guest ("PO-2291 / Item 1:", "Qty 2 VMs:", "**Request type:**", "Name: / Kind: / CPU:",
"Assignee:", "Decided:", "Today:", "*Decision:*"); 16 an opener (greeting, politeness,
first person or question: "Thank you always ...", "I am sorry to trouble you, but",
"We would be grateful if", "Excuse me,", "If possible,", "It is requested that", "We
note that", "Dear tech team,"); 12 tab-separated rows (every one); 12 a verb or idiom
("made from the template", "Cancel and remove", "Clone the template X into a VM
called", "exists", "ought to be provided with", "attach the tags ... to", "receive the
identifier", "is required:", "sized at", "Get rid of", "sit on"); 9 a trailing remark,
reason or aside ("Trainers don't need access.", "(keep it for the audit)", "but dont
delete it"); 9 a time or condition clause ("when the server boots", "till i say",
"After the judging,", "whenever the host is restarted", "after a power cut"); 7 a
description before the name ("The print server for the public PCs, print-queue, ...",
"Our DB (`hack-db`)", "The machine known as ..."); 6 the name given after the kind and
purpose ("call it X", "name it X", "the name is X", "Name: X"); 6 a table layout (a
Confluence "||" header; unknown columns status, template, start at boot, disk size); 5
Obsidian [[links]] around names; 5 unit or SMS shorthand ("512mb", "2gig", "n" for
"and", "rm ct test123 ty", "auto start ok"); 4 a bare "on NAME"; 4 non-native phrasing
or foreign words ("in the node", "the disk is of", "removed of the cluster",
"memória"); 2 number words ("one disk of 1 TB", "one (1) VM ... two (2) cores"); 2
passthrough phrasing ("the PCI mapping rtx4090 passed through"); 1 each a relative
amount ("2 more GB (6 GB in total)"), a count before the names ("two more containers,
bot-a and bot-b"), a Markdown heading stating something ("### Describe the VM you
need") and a bare amount ("needs 512 MB"). With Confluence/Textile headings ("h3.")
read as headings: 46 exact, 0 wrong. After grammar round 7 (tuned on heldout6 only,
never on this set): 59 of 190 exact (31.1 %), 131 refused, 0 wrong; 32 of 32 refused.
After grammar round 8, which used this set as its development set (by classes of
phrasing; so it is no longer held out): 142 of 190 exact (74.7 %), 48 refused, 0 wrong;
32 of 32 refused; with the cluster's names known, 4 of the 6 facts_needed notes exact.

**heldout8**: 166 notes in 16 styles (WhatsApp group-chat export with date, time and
sender, Microsoft Teams messages with a "[10:14] Name" header, Trello card with a
checklist, YAML-minded admin writing "key: value" prose, CSV pasted with commas,
accountant's year-end notes, physiotherapy clinic front desk, small hotel's IT, makerspace
wiki, radio amateur, a parent texting the teenager who runs the homelab, a scientist's
methods section in the passive voice, Hindi speaker's English, Korean speaker's English,
Notion page export, handwritten notes transcribed with "[scan of notebook]" remarks), all
styles no earlier set used, and 31 impossible requests in the same styles. 6 notes name a
node or storage without the word ("on pve3", "on tank", "its disk on fast-ssd"); they
carry ``"facts_needed": true`` and expect the node or storage. When written (grammar at
main 5b30c9d): 35 of 166 exact (21.1 %), 131 refused, 0 wrong; 31 of 31 impossible
requests refused. Of the 6 facts_needed notes one compiled exact ("its disk on fast-ssd"
is read as the disk's storage), 5 were refused. By style, exact of notes: Notion 6/10,
physio clinic 5/11, accountant 4/10, parent's texts 4/10, makerspace 3/10, radio amateur
3/11, small hotel 3/11, YAML-minded 3/11, Korean 2/10, Trello 2/10, and 0 of the CSV
(11), WhatsApp (11), Teams (10), handwritten (10), Hindi (10) and scientist (10) notes.
The refusals by kind of phrasing (the grammar's first message): 22 a chat header before
the guest ("12/03/26, 14:02 - Ana:", "[10:14] Priya Nair", "Priya Nair 11:02 AM", "de
DL1ABC:"); 16 a label, card or page header before the guest ("Card: New wiki server",
"Due: Fri", "Checklist item:", "Comment on card:", "Quarter-end checklist item 4:",
"Asset register, IT section:", "WSJT-X remote:", "== Servers ==", "''Note:''", "💡", "▸
Media stack", "Last edited by Sam ·"); 12 an opener (greeting, context or idiom: "Hi
sweetie, Dad here.", "Your sister needs a computer ...", "Don't forget:", "Homework first,
then", "73 all.", "Contest's over,", "Year-end close is done.", "Kindly do the needful
and", "Please do one thing,", "Revert back with confirmation after", "Sir,", "Hi, this is
Maria ... is really slow, could it have"); 11 CSV rows (every one); 10 a description
before the name ("The door access controller door-ctl", "Guest WiFi portal container
wifi-portal", "Echolink node container echolink", "We need a little container for the SMS
reminders, sms-remind"); 10 past-tense passive narrative (every methods-section note: "was
assigned", "were stored on", "was given the tags"); 8 "key: value" fields ("state:
absent", "tags: [infra, dns]", "bios: ovmf", "network: bridge vmbr2", a YAML-like block);
8 a transcription remark in brackets before the guest ("[scan of notebook]"); 7 a verb or
idiom ("can lose its extra memory", "could it go on the second network", "may be shifted
to", "the first to start", "make it 10 GB", "plus a 4 TB disk", "tag prod for X and tag uat
for Y"); 7 a trailing remark or reason ("we moved to the new system in January", "I don't
trust it", "It is not using anymore", "Thank you for your help always", "is gone from the
contract"); 5 non-native word order ("firewall also enable", "is connect to vmbr1 bridge",
"in ceph-ssd storage", "id is 5000", "tag is shop"); 3 form fields ("**Name:** syncthing",
"VM name - gst-recon, CPU - 2 core", "Container: dnsmasq. RAM: 128 MB."); 3 a time or
condition clause ("till further notice", "when server is booting", "during the filing
season"); 2 the name given after the kind ("call it calendar", "name canteen-menu"); 2
"template local:vztmpl/..." as an attribute; 2 USB passthrough phrasing ("the USB mapping
cnc-stick on usb0"); 2 a bare "on NAME" / "move to NAME"; 1 a name in single quotes
("container 'zigbee2mqtt'"). After grammar round 8 (tuned on heldout7 only; nobody
tuning read this set): 53 of 166 exact (31.9 %), 113 refused, 0 wrong; 31 of 31 refused;
with the cluster's names known, 3 of the 6 facts_needed notes exact, 0 wrong. After
grammar round 9, which used this set for development (by classes of phrasing): 128 of
166 exact (77.1 %), 38 refused, 0 wrong; 31 of 31 refused; 5 of the 6 facts_needed notes
exact with the cluster's names, 0 wrong.

**heldout9**: 168 notes in 14 styles of 12 notes each (Vietnamese speaker's English,
Arabic speaker's English, Emacs org-mode file, reStructuredText page, commit message with
trailers, SRE on-call hand-off in bullet fragments, voicemail transcript, board
resolution, brewery owner, driving school, high-school robotics team, Linear/Asana task,
haiku-loving minimalist, thesis appendix), all styles no earlier set used, and 28
impossible requests in the same styles. 6 notes name a node or storage without the word
("on pve2", "put it on pve-shop", "disk 100 GB on tank"); they carry ``"facts_needed":
true`` and expect the node or storage. When written (grammar at main be42490): 54 of 168
exact (32.1 %), 113 refused, 1 wrong; 28 of 28 impossible requests refused. The wrong note
(an xfail until 14f0c3e): "The VM ``win-ad`` uses UEFI (OVMF), the q35 machine and a TPM
2.0 on ``local-lvm``." compiles with an EFI disk (``efidisk: {}``) besides ``bios: ovmf``,
which the text does not state (prose "uses UEFI" / "uses OVMF" adds the EFI disk, "bios
ovmf" does not); the expectation follows the model, where the EFI disk is a field of its
own. The lead agreed (three writers read "UEFI" so, and the two specs act the same): since
14f0c3e "UEFI" states the firmware alone, and the note compiles exact (55 of 168, 0 wrong,
before any grammar round used this set). Of the 6 facts_needed notes one compiled exact
offline ("disk 100 GB on tank" read as the disk's storage), 5 were refused; with the
cluster's names known 4 exact, 2 refused ("id is 310", "one gig"), 0 wrong. By style,
exact of 12: Arabic speaker 7, haiku 6, Linear task 6, reStructuredText 6 (1 wrong),
Vietnamese speaker 6, brewery 5, driving school 5, robotics team 4, SRE hand-off 4,
org-mode 3, voicemail 2, and 0 of the board resolutions, commit messages and thesis
appendix. The refusals by kind of phrasing (the grammar's first message): 18 a verb or
idiom ("change network to", "make the protection on", "gets its own container", "Enable
... for", "bump disk to", "can have", "sit on", "router is", "set the CPU type to",
"assigned the identifier", "receives the static address", "kept in a stopped state",
"carry the tags", "Clone the template X into a VM called", "number 2 in the start order",
"start together with server when boot", "Add our team's deploy key to", "on the sensors
VLAN, that's VLAN 12"); 14 org-mode or reStructuredText markup ("* Homelab" headings, an
org table with "|---+---|", a ":PROPERTIES:" drawer, "CLOSED: [...]", "#+TITLE:", an
underlined heading that states something, ".. warning::", ".. list-table::", ":Name:"
field lists); 11 an opener, greeting, speaker, filler or context clause ("Salam.", "Yeah
hi, message for IT.", "Hey, Lena.", "The, uh, container", "I'm calling about", "Taproom
POS is moving to the cloud, so", "To ensure reproducibility,", "The experiments use a
..."); 11 a formal resolution ("RESOLVED, that ... be provisioned", "The Board resolves
that", "It was moved and seconded that", "BE IT RESOLVED that"); 10 a trailing remark,
reason or purpose ("we not use anymore", "for compiling the robot code", "— blocked by
network team", "hosts the annotation tool", "used in the pilot study", "new."); 7 a time
or condition clause ("until the next notice", "over winter", "for exam week", "during the
off-season", "when the host wakes"); 7 a label, caption or task header ("handoff:",
"on-call notes 30/11", "Resolution 2026-14:", "Status: Todo", "Description:" (refused, not
read as the guest's description), "Table B.1:", "Brewery guests, all on node pve-brew:");
6 commit trailers ("Refs:", "Reviewed-by:", "Co-authored-by:", "Acked-by:", "Fixes:"); 4
the name after the kind ("VM name is X", "call it X", "name it X"); 4 a count with the
names ("Add three k3s workers", "Two virtual machines please, lab-a and lab-b", "ripple
and wave: two containers"); 3 a description before the name ("scouting app server =
container scout-app"); 3 a question ("could you tag it with docs?"); 3 a bare "on NAME"; 2
a body paragraph that names no guest (a commit or task body under its title); 2 number
words ("one gig", "two gigs"); 2 passthrough phrasing; 2 on-call shorthand ("mem -> 32G",
"lb-1 + lb-2"); 2 a negated aside ("not delete", "but do not delete"); 1 non-native word
order ("id is 310"); 1 an ordinal reference ("The first one stays on vmbr0"). After
grammar round 9 (tuned on heldout8 only; nobody tuning read this set): 58 of 168 exact
(34.5 %), 110 refused, 0 wrong; 28 of 28 refused; with the cluster's names known, 5 of the
6 facts_needed notes exact, 0 wrong.
"""

from __future__ import annotations

import json

import pytest

from tests.support import heldout

#: impossible requests the grammar does not refuse yet, by set: xfail(strict=True)
NOT_REFUSED_YET: dict[str, str] = {}

#: notes the grammar compiles wrong, by set: xfail(strict=True) until the grammar is fixed;
#: a set's notes that compile wrong and are not mended yet (heldout7's Confluence heading
#: "h3. Containers" was read as a container named h3 until the Markdown reader took
#: "h1." .. "h6." for headings)
WRONG_YET: dict[str, str] = {}


@pytest.fixture(scope="module",
                params=["heldout2", "heldout3", "heldout4", "heldout5", "heldout6",
                        "heldout7", "heldout8", "heldout9"])
def figures(request: pytest.FixtureRequest) -> heldout.Figures:
    return heldout.measured(request.param)


def test_the_set_is_measured_and_its_figures_printed(figures: heldout.Figures) -> None:
    details = figures.details()
    print(json.dumps(details, indent=2, ensure_ascii=False))
    summary = details["overall"]
    assert summary["notes"] >= 150
    assert summary["exact"] + summary["refused"] + summary["wrong"] == summary["notes"]
    assert len(details["by_style"]) >= 10
    assert details["impossible"] >= 20
    # every expectation is a valid spec in stored form (judge() parses each one)
    for outcome in figures.outcomes:
        assert outcome.want == {"guests": outcome.note["expect"]}, outcome.note["text"]


def _known_failure(request: pytest.FixtureRequest, known: dict[str, str]) -> None:
    """Mark this set's test xfail(strict) when ``known`` names a reason for the set."""
    reason = known.get(request.node.callspec.params["figures"])
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def test_no_note_of_the_set_compiles_wrong(
    figures: heldout.Figures, request: pytest.FixtureRequest
) -> None:
    _known_failure(request, WRONG_YET)
    wrong = [(o.note["text"], o.got, o.want) for o in figures.outcomes if o.verdict == "wrong"]
    assert wrong == []


def test_every_impossible_request_of_the_set_is_refused(
    figures: heldout.Figures, request: pytest.FixtureRequest
) -> None:
    _known_failure(request, NOT_REFUSED_YET)
    not_refused = [text for text, error in figures.impossible if error is None]
    assert not_refused == []
    for text, error in figures.impossible:
        assert error and "heldout.md:" in error, (text, error)
