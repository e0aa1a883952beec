"""The grammar understands the family around the examples, and rejects the rest clearly."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mycopod import spec as specmod
from mycopod.declarations.errors import CompileError, GuestLimitError
from mycopod.declarations.grammar import VOCABULARY, compile_text


def guest(text: str, name: str | None = None) -> dict[str, Any]:
    spec = compile_text(text, filename="t.md")
    found = spec.guests if name is None else [g for g in spec.guests if g.name == name]
    assert len(found) == 1, spec
    return specmod.guest_dict(found[0])


def error(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_text(text, filename="t.md")
    return str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    # synonyms for kinds, cores, memory and units
    ("web-1 is a virtual machine with two vCPUs and eight gigabytes of memory.",
     {"kind": "vm", "cores": 2, "memory_mib": 8192}),
    ("web-1 is a VM with 4 CPUs and 4096 MB RAM.", {"cores": 4, "memory_mib": 4096}),
    ("web-1 is a VM with 2 CPU cores, 8G of RAM and a 64G disk.",
     {"cores": 2, "memory_mib": 8192, "disks": [
         {"slot": "scsi0", "storage": "local-lvm", "size_gib": 64}]}),
    ("web-1 is a VM with 3 GiB of memory and a 1 TB disk.",
     {"memory_mib": 3072, "disks": [{"slot": "scsi0", "storage": "local-lvm",
                                     "size_gib": 1024}]}),
    ("web-1 is a VM with 4 gigs of RAM.", {"memory_mib": 4096}),
    ("web-1 is a VM with 1.5 GB of RAM.", {"memory_mib": 1536}),
    ("web-1 is a VM with half a gig of RAM.", {"memory_mib": 512}),
    ("web-1 is a VM with thirty-two gigabytes of RAM and sixteen cores.",
     {"memory_mib": 32768, "cores": 16}),
    ("web-1 is a VM with a single core.", {"cores": 1}),
    ("dns is an LXC with 1 core.", {"kind": "ct"}),
    ("dns is a CT.", {"kind": "ct"}),
    ("dns is a Linux container.", {"kind": "ct"}),
    ("dns is an LXC container with 256 MB of memory.", {"kind": "ct", "memory_mib": 256}),
    # states
    ("web-1 is a VM. It should be powered on.", {"state": "running"}),
    ("web-1 is a VM. It should be started.", {"state": "running"}),
    ("web-1 is a VM. It should be shut down.", {"state": "stopped"}),
    ("web-1 is a VM. It should not be running.", {"state": "stopped"}),
    ("web-1 is a VM, powered off.", {"state": "stopped"}),
    ("Stop the VM web-1.", {"state": "stopped", "kind": "vm"}),
    ("The VM old should not exist.", {"state": "absent"}),
    ("Make sure old doesn't exist.", {"state": "absent", "kind": "vm"}),
    ("Delete the container old.", {"state": "absent", "kind": "ct"}),
    ("Remove the VM old.", {"state": "absent"}),
    ("old is a VM. It should be deleted.", {"state": "absent"}),
    # boot
    ("web-1 is a VM. Start it at boot.", {"onboot": True, "state": "running"}),
    ("web-1 is a VM that starts on boot.", {"onboot": True}),
    ("web-1 is a VM with autostart.", {"onboot": True}),
    ("web-1 is a VM. It should start automatically.", {"onboot": True}),
    ("web-1 is a VM. It should not start on boot.", {"onboot": False}),
    # placement, identity, grouping
    ("web-1 is a VM on node pve3 with ID 250.", {"node": "pve3", "vmid": 250}),
    ("web-1 is a VM with VMID 300.", {"vmid": 300}),
    ("web-1 is a VM in the resource pool lab.", {"pool": "lab"}),
    ("web-1 is a VM in the lab pool.", {"pool": "lab"}),
    ("web-1 is a VM with tags web, prod and eu.", {"tags": ["eu", "prod", "web"]}),
    ("web-1 is a VM tagged Web.", {"tags": ["web"]}),
    ("web-1 is a VM with the description \"Main \\\"web\\\" server\".",
     {"description": "Main \"web\" server"}),
    ("web-1 is a VM described as \u201cFront end\u201d.", {"description": "Front end"}),
    # network
    ("web-1 is a VM on VLAN 12 connected to vmbr2.",
     {"networks": [{"slot": "net0", "bridge": "vmbr2", "vlan": 12, "ip": "dhcp",
                    "gateway": None, "firewall": False}]}),
    ("web-1 is a VM with IP address 10.1.2.3/16, gateway 10.1.0.1 and the firewall on.",
     {"networks": [{"slot": "net0", "bridge": "vmbr0", "vlan": None, "ip": "10.1.2.3/16",
                    "gateway": "10.1.0.1", "firewall": True}]}),
    ("web-1 is a VM using DHCP, with no firewall.",
     {"networks": [{"slot": "net0", "bridge": "vmbr0", "vlan": None, "ip": "dhcp",
                    "gateway": None, "firewall": False}]}),
    ("web-1 is a VM. Its network net1 is on bridge vmbr1 with VLAN 30.",
     {"networks": [
         {"slot": "net0", "bridge": "vmbr0", "vlan": None, "ip": "dhcp", "gateway": None,
          "firewall": False},
         {"slot": "net1", "bridge": "vmbr1", "vlan": 30, "ip": "dhcp", "gateway": None,
          "firewall": False}]}),
    ("web-1 is a VM with no network.", {"networks": []}),
    # disks and sources
    ("web-1 is a VM with a 20 GB disk and a 100 GB data disk on tank.",
     {"disks": [{"slot": "scsi0", "storage": "local-lvm", "size_gib": 20},
                {"slot": "scsi1", "storage": "tank", "size_gib": 100}]}),
    ("web-1 is a VM with a 20 GB disk on fast as virtio0.",
     {"disks": [{"slot": "virtio0", "storage": "fast", "size_gib": 20}]}),
    ("web-1 is a VM on storage ceph.",
     {"disks": [{"slot": "scsi0", "storage": "ceph", "size_gib": 32}]}),
    ("db is a container with a 20 GB root disk and a 50 GB data disk on tank.",
     {"disks": [{"slot": "rootfs", "storage": "local-lvm", "size_gib": 20},
                {"slot": "mp0", "storage": "tank", "size_gib": 50}]}),
    ("web-1 is a VM cloned from debian-12.", {"source": {"clone": "debian-12"}}),
    ("web-1 is a VM installed from the ISO local:iso/alpine.iso.",
     {"source": {"iso": "local:iso/alpine.iso"}}),
    ("dns is a container based on the template local:vztmpl/alpine.tar.xz.",
     {"source": {"ostemplate": "local:vztmpl/alpine.tar.xz"}}),
    ("web-1 is a VM with the SSH keys \"ssh-ed25519 AAAA a@b\" and \"ssh-rsa BBBB c@d\".",
     {"ssh_keys": ["ssh-ed25519 AAAA a@b", "ssh-rsa BBBB c@d"]}),
    # free word order
    ("web-1, with 4 GB of RAM and 2 cores, is a VM on node pve1.",
     {"cores": 2, "memory_mib": 4096, "node": "pve1"}),
    ("web-1 has 2 cores. It is a VM.", {"cores": 2, "kind": "vm"}),
    ("Create a VM web-1 with 2 cores.", {"cores": 2}),
    ("On node pve1, web-1 is a VM with 2 cores.", {"node": "pve1", "cores": 2}),
    ("With 4 GB of RAM and 2 cores, web-1 is a VM.", {"memory_mib": 4096, "cores": 2}),
    ("Make web-1 a VM with 2 cores.", {"kind": "vm", "cores": 2}),
    ("web-1 \u2014 a VM with 2 cores.", {"kind": "vm", "cores": 2}),
    ("web-1 is a VM using the template debian-12.", {"source": {"clone": "debian-12"}}),
    ("web-1 is a VM with two hundred fifty-six MB of RAM.", {"memory_mib": 256}),
    ("web-1 is a VM with one thousand and twenty-four MB of RAM.", {"memory_mib": 1024}),
    ("web-1 is a VM with twenty one cores.", {"cores": 21}),
    ("web-1 is a 4-core VM.", {"cores": 4}),
    ("web-1 is a VM with a 32 GB disk and another 100 GB disk on tank.",
     {"disks": [{"slot": "scsi0", "storage": "local-lvm", "size_gib": 32},
                {"slot": "scsi1", "storage": "tank", "size_gib": 100}]}),
    ("web-1 is a VM with a first 20 GB disk and a second 30 GB disk.",
     {"disks": [{"slot": "scsi0", "storage": "local-lvm", "size_gib": 20},
                {"slot": "scsi1", "storage": "local-lvm", "size_gib": 30}]}),
    ("**web-1** is a `VM` <!-- inline comment --> with 2 cores.", {"cores": 2}),
])
def test_phrasings(text: str, expected: dict[str, Any]) -> None:
    got = guest(text)
    assert {k: got[k] for k in expected} == expected


def test_several_guests_ranges_and_each() -> None:
    spec = compile_text(
        "Create 3 VMs named app-1 to app-3 with 4 cores each. Start them on boot.\n\n"
        "web-1 is a VM with 2 cores and web-2 is a container with 1 core.\n\n"
        "- db-01 through db-03 are containers, each with 1 GB of RAM.\n"
    )
    names = [g.name for g in spec.guests]
    assert names == ["app-1", "app-2", "app-3", "db-01", "db-02", "db-03", "web-1", "web-2"]
    assert all(g.onboot and g.cores == 4 for g in spec.guests[:3])
    assert all(g.kind == "ct" and g.memory_mib == 1024 for g in spec.guests[3:6])
    assert spec.guest("web-2") is not None and spec.guest("web-2").kind == "ct"  # type: ignore[union-attr]


def test_markdown_commentary_is_skipped_and_lines_are_tracked() -> None:
    text = (
        "# Lab\n"
        "<!-- web-9 is a VM with 64 sockets -->\n"
        "```\n"
        "web-8 is a VM with 3 GPUs\n"
        "```\n"
        "\n"
        "    indented code is not a declaration either\n"
        "\n"
        "Setext heading\n"
        "==============\n"
        "\n"
        "1. web-1 is a VM\n"
        "   with 2 cores.\n"
        "2. web-2 is a VM with 2 potatoes.\n"
    )
    message = error(text)
    assert message == (
        "t.md:14: could not understand \"2 potatoes\" in \"web-2 is a VM with 2 potatoes\"; "
        "expected a number with what it measures, like '2 cores', '4 GB of RAM' or 'a 32 GB "
        "disk' (units: MB, GB, TB)")


def test_it_after_a_sentence_about_several_guests_is_an_error() -> None:
    message = error("web-1 is a VM and web-2 is a container. It should be stopped.")
    assert message == ("t.md:1: 'It' could mean any of web-1, web-2 (the sentence before "
                       "speaks of several); name the guest")
    # one subject of several names is not ambiguous: "they" are all of them
    spec = compile_text("web-1 and web-2 are VMs. They should be stopped.")
    assert [g.state for g in spec.guests] == ["stopped", "stopped"]


@pytest.mark.parametrize(("text", "message"), [
    ("web-1 is a VM.\n\n<!-- draft\nweb-2 is a VM.\n",
     "t.md:3: this HTML comment (<!--) is never closed with -->, so everything after it "
     "would be ignored"),
    ("web-1 is a VM.\n```\nweb-2 is a VM.\n",
     "t.md:2: this code block (```) is never closed, so everything after it would be "
     "ignored"),
    ("web-1 is a VM.\n\n    web-2 is a VM.\n",
     "t.md:3: this line is indented by 4 spaces, which makes it a code block, not a "
     "declaration; remove the indentation if it is a declaration"),
    ("web-1 is a VM.\n---\n",
     "t.md:1: this paragraph is underlined by line 2 (---...), which makes it a heading, not "
     "a declaration; put a blank line before the underline if it is a declaration"),
])
def test_unclosed_comment_or_fence_is_an_error(text: str, message: str) -> None:
    assert error(text) == message


def test_indented_paragraph_after_a_list_item_is_read() -> None:
    spec = compile_text("- web-1 is a VM.\n\n    web-2 is a VM.\n")
    assert [g.name for g in spec.guests] == ["web-1", "web-2"]


def test_pronouns_do_not_cross_paragraphs() -> None:
    message = error("web-1 is a VM.\n\nIt should be stopped.\n")
    assert message == ("t.md:3: 'It' does not refer to any guest in this paragraph; name the "
                       "guest")


@pytest.mark.parametrize(("text", "message"), [
    ("Create a VM with 2 cores.",
     "t.md:1: a guest needs a name: write it right after the kind, like 'a VM named web-1' "
     "or 'web-1 is a VM'"),
    ("A container with 4 GB of RAM.", "t.md:1: a guest needs a name"),
    ("Web_1 is a VM.", "t.md:1: 'Web_1' is not a valid guest name: use lower-case letters"),
    ("A VM named Web-1.", "t.md:1: 'Web-1' is not a valid guest name"),
    ("web-1 is a VM with -2 cores.", "t.md:1: -2 is negative"),
    ("web-1 is a VM with 0 cores.",
     "t.md:1: guest 'web-1', field cores: Input should be greater than or equal to 1"),
    ("web-1 is a VM with 9000 cores.",
     "t.md:1: guest 'web-1', field cores: Input should be less than or equal to 8192"),
    ("web-1 is a VM with 8 MB of RAM.",
     "t.md:1: guest 'web-1', field memory_mib: Input should be greater than or equal to 16"),
    ("web-1 is a VM with ID 42.",
     "t.md:1: guest 'web-1', field vmid: Input should be greater than or equal to 100"),
    ("web-1 is a VM on VLAN 5000.", "t.md:1: VLAN 5000 is out of range (1..4094)"),
    ("web-1 is a VM with IP 10.0.0.5.",
     "field networks.0.ip: '10.0.0.5' needs a prefix length"),
    ("web-1 is a VM with IP 10.0.0.5/24 and gateway 10.9.9.9.",
     "gateway 10.9.9.9 is not inside 10.0.0.0/24"),
    ("web-1 is a VM with 2.5 cores.", "t.md:1: the number of cores must be a whole number"),
    ("web-1 is a VM with 2 GPUs passed through.",
     "t.md:1: could not understand \"2 GPUs passed through\" in \"web-1 is a VM with 2 GPUs "
     "passed through\"; hardware passthrough is declared through a cluster resource mapping "
     "only"),
    ("web-1 is a VM with PCI passthrough of the NIC.",
     "passthrough is declared through a cluster resource mapping: write e.g. 'PCI "
     "passthrough of the mapping gpu0'"),
    ("web-1 is a VM with 2 threads per core.", "CPU threads cannot be expressed"),
    ("web-1 is a VM with 4 cores if it is Tuesday.",
     "could not understand \"if it is Tuesday\""),
    ("web-1 is a VM. It should be running every night.",
     "could not understand \"every night\" in \"It should be running every night\"; "
     "schedules cannot be expressed"),
    ("Reboot node pve1.", "operations on Proxmox nodes"),
    ("Shut down node pve2.", "operations on Proxmox nodes"),
    ("Upgrade pve1.", "operations on Proxmox nodes"),
    ("web-1 is a VM with about 4 GB of RAM.",
     "could not understand \"about\" in \"web-1 is a VM with about 4 GB of RAM\"; vague "
     "amounts cannot be compiled"),
    ("web-1 is a VM with some RAM.", "vague amounts"),
    ("web-1 is a VM with 4 GB of potatoes.", "could not understand \"4 GB of potatoes\""),
    ("web-1 is a VM with 4 GB, 8 GB.",
     "two sizes without a noun (\"4 GB\" on line 1 and \"8 GB\")"),
    ("web-1 is a VM with 2 cores on pve1.",
     "could not understand \"on pve1\" in \"web-1 is a VM with 2 cores on pve1\"; whether "
     "'pve1' is a node, a storage, a bridge or a pool is known only from the cluster's names; "
     "write 'on node pve1', 'on storage pve1'"),
    ("web-1 is a VM described as Prometheus.",
     "t.md:1: put the description in double quotes"),
    ("web-1 is a VM with the SSH key ssh-ed25519.", "put the SSH key in double quotes"),
    ("web-1 is a VM. web-1 is a container.", "web-1 is declared twice: line 1 and line 1"),
    ("web-1 is a VM.\n\nweb-1 is a VM with 2 cores.",
     "t.md:3: web-1 is declared twice: line 1 and line 3"),
    ("web-1 is a VM with 4 GB of RAM.\nIt has 8 GB of memory.",
     "t.md:2: web-1: memory_mib is given twice with different values: 4096 (line 1) and "
     "8192 (line 2)"),
    ("Create three servers named a-1 through a-2.",
     "t.md:1: 3 guests are announced but 2 named (a-1, a-2)"),
    ("web-3 through web-1 are VMs.", "the range web-3 through web-1 runs backwards"),
    ("web-1 is a VM. It should not be.", "could not understand \"not\""),
    ("web-1 is a VM with three GPU servers.", "hardware passthrough"),
    ("web-1 is a VM cloned from the template local:vztmpl/x.tar.gz.",
     "t.md:1: 'local:vztmpl/x.tar.gz' is a storage volume, not a VM template name"),
    ("db is a container cloned from debian-12.",
     "a container can only be created from an LXC template"),
    ("web-1 is a VM with a 100 GB data disk.",
     "a data disk is declared but no system disk"),
    ("web-1 is a VM with the description \"unterminated.", "a quotation mark is not closed"),
    ("web-1 is a VM with 2 cores (fast ones).", "could not understand \"fast ones\""),
    ("Is web-1 a VM?", "could not find which guest this is about"),
    ("web-1 is a VM with two four cores.", "could not understand \"two\""),
    ("web-1 is a VM with 2 coers.", "(did you mean 'cores' instead of 'coers'?)"),
    ("web-1 is a VM taged web.", "(did you mean 'tagged' instead of 'taged'?)"),
    ("web-1 is a VM with twelve hundred MB of RAM.",
     "could not understand \"twelve hundred MB of RAM\""),
    ("web-1 is a VM with 1,024 MB of RAM.", "could not understand \"1\""),
    ("web-1 is a VM with 4 cores instead of 2 GB.",
     "could not understand \"instead of 2 GB\""),
    ("web-1 is a VM with 2 cores, web-2 with 4 cores.", "could not understand \"web-2\""),
    ("web-1 is not a VM.", "could not understand \"not\""),
    ("web-1 is a VM that should never be running.", "could not understand \"never\""),
    ("web-1 is a VM with at least 4 GB of RAM.", "could not understand \"at least\""),
    ("web-1 is a VM with 4 GB of RAM and 2 GB of swap.",
     "guest 'web-1': swap_mib: only for a container, and web-1 is a VM"),
    ("web-1 and web-2 have 8 GB of RAM in total. They are VMs.",
     "could not understand \"in total\""),
    ("Keep web-1 stopped and web-2 running.", "could not understand \"web-2\""),
    ("web-1 is a VM on node pve1 and node pve2.", "node is given twice with different values"),
    ("web-1 and web-2 are a VM and a container.", "web-1 is said to be a VM (line 1) and a "
     "container (line 1)"),
    ("With 2 cores, web-1 is a VM and web-2 is a VM.",
     "attributes written before the first guest's name would apply to one guest only"),
    ("web-1 is a VM. Keep it stopped. Start it.",
     "web-1: state is given twice with different values: \"stopped\" (line 1) and "
     "\"running\" (line 1)"),
])
def test_errors(text: str, message: str) -> None:
    assert message in error(text)


def test_all_errors_of_a_file_are_reported() -> None:
    with pytest.raises(CompileError) as info:
        compile_text("web-1 is a VM with 2 widgets.\n\nweb-2 is a VM with 3 gadgets.\n",
                     filename="lab.md")
    assert [(i.file, i.line) for i in info.value.issues] == [("lab.md", 1), ("lab.md", 3)]


# --- limits (issue 18: one User declared 100,000 guests with range sentences) -------------


def test_a_range_of_more_than_100_guests_is_refused_quoting_its_words() -> None:
    message = error("Create 1000 servers named g01-1 through g01-1000, each with 1 core.")
    assert '"g01-1 through g01-1000" names 1000 guests' in message
    assert "at most 100" in message and "g01-1 through g01-100" in message
    assert '"g-001 to g-101" names 101 guests' in error("g-001 to g-101 are VMs.")
    assert len(compile_text("g-001 to g-100 are VMs.").guests) == 100


def test_a_sentence_naming_more_than_100_guests_is_refused() -> None:
    ranges = "a-1 through a-60 and b-1 through b-60 are VMs."
    assert "are more than 100 guests" in error(ranges)
    names = ", ".join(f"n{i}" for i in range(101)) + " are VMs."
    assert "are more than 100 guests" in error(names)


def test_a_file_over_max_guests_stops_at_the_limit() -> None:
    """100 lines of 100 guests each: reading stops once the limit is passed, and the
    error names the setting."""
    lines = [f"Create 100 VMs named g{i:02d}-1 through g{i:02d}-100.\n" for i in range(100)]
    text = "".join(lines)
    with pytest.raises(GuestLimitError) as info:
        compile_text(text, filename="t.md", max_guests=2000)
    [issue] = info.value.issues
    assert issue.line == 21  # the sentence that passed 2000 guests: nothing after it is read
    assert "at least 2100 guests declared" in issue.message
    assert "declarations.max_guests allows (2000)" in issue.message
    assert len(compile_text(text, filename="t.md", max_guests=None).guests) == 10_000
    assert len(compile_text("".join(lines[:20]), max_guests=2000).guests) == 2000


def test_empty_and_comment_only_files_give_an_empty_spec() -> None:
    assert compile_text("") == specmod.ClusterSpec()
    assert compile_text("# Only a heading\n<!-- and a comment -->\n") == specmod.ClusterSpec()


_WORDS = [
    *sorted(VOCABULARY), "web-1", "web-3", "pve1", "local-lvm", "2", "0.5", "GB", '"x"',
    "10.0.0.5/24", "vmbr1", "net1", "scsi1", "local:iso/a.iso", "-3", "twenty-two", ".", ",",
    "(", '"open']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=14))
def test_any_word_salad_compiles_or_gives_a_compile_error(words: list[str]) -> None:
    """No input makes the compiler fail with anything but a CompileError."""
    try:
        compile_text(" ".join(words))
    except CompileError as exc:
        assert exc.issues and all(i.line >= 0 and i.message for i in exc.issues)


def test_every_word_a_phrase_uses_is_in_the_vocabulary() -> None:
    """VOCABULARY decides what may start a phrase and what the renderer quotes."""
    import ast
    import inspect

    from mycopod.declarations import grammar
    from mycopod.declarations.grammar import lexicon

    not_words = {"ide", "sata", "virtio", "source", "state", "teen", "tens", "unit"}
    import pathlib

    # the grammar is split over the modules of its package: read them all
    sources = sorted(pathlib.Path(inspect.getfile(grammar)).parent.glob("*.py"))
    words: set[str] = set()
    functions = 0
    for node in (n for src in sources for n in ast.walk(ast.parse(src.read_text()))):
        if isinstance(node, ast.FunctionDef) and node.name.startswith((
                "_p_", "p_", "read_number", "_number", "kind_noun", "_disk_tail", "read_size",
                "read_subject", "read_names", "_storage_name", "_leading")):
            functions += 1
            for sub in ast.walk(node):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and (
                        " " not in sub.value):
                    words.update(w for w in sub.value.split("|")
                                 if w and w.replace("-", "").isalpha())
    missing = {w for w in words - not_words - lexicon.PHRASE_ONLY_WORDS
               if w not in VOCABULARY and w not in lexicon.SMALL_NUMBERS and w not in lexicon.TENS}
    assert functions >= 30 and len(words) >= 200  # the scan found the phrase parsers
    assert missing == set()
