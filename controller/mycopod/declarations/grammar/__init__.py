"""The grammar compiler: controlled English in, a validated ClusterSpec out. Pure, offline.

Interface: :func:`compile_text` ``(text, *, filename, max_guests=None) -> ClusterSpec``,
raising :class:`~mycopod.declarations.errors.CompileError` whose ``issues`` name
``file:line`` (:class:`~mycopod.declarations.errors.GuestLimitError` when the file
declares more than ``max_guests`` guests: reading stops there, so a file of range
sentences never builds more than about ``max_guests`` guests).

Why it is built this way: a misread sentence becomes a deleted or resized VM, so the
compiler must account for every word. A sentence is tokenised (quoted strings, numbers
with glued units, punctuation), its subject is found (a name, a list or range of names,
``it``/``they``, ``the VM old-test``, ``Create three servers named ...``), and the rest
is read as a sequence of attribute phrases in any order (``2 cores``, ``4 GB of RAM``,
``a 32 GB disk on local-lvm``, ``on node pve1``, ``tagged web``, ``stopped`` ...). Between
phrases only a closed list of words that carry no meaning (``and``, ``with``, ``should``,
``be``, articles ...) may appear. Any other word is "unplaced": the sentence is an error
that quotes those words and says what was expected. Negations (``not``, ``no``,
``without``) exist only inside phrases that give them a meaning, never as filler, so a
``not`` can never be dropped. Requests the spec cannot express (raw passthrough, CPU
threads, schedules, conditions, node operations) and vague amounts are explained.

Phrases understood (any order, joined by commas, ``and``, ``with``):

- kind: ``a VM``, ``virtual machine``, ``QEMU VM``, ``container``, ``LXC (container)``,
  ``CT``; subjects: ``web-1``, ``web-1 and web-2``, ``web-1 through web-3``,
  ``the VM old``, ``Create three web servers named web-1 to web-3``, ``A VM named x``;
- sizes: ``2 cores``/``vCPUs``/``CPUs``, ``4 GB of RAM``/``memory`` (MB, GiB, G,
  gigabytes, gigs, TB; numbers as digits, decimals or words), ``a 32 GB disk on
  local-lvm [as scsi1]``, ``an 8 GB root disk``, ``a 2 TB data disk on tank``,
  ``on storage ceph``, ``no disks``;
- state: ``running``, ``started``, ``powered on``, ``stopped``, ``shut down``,
  ``not running``, ``should not exist``, ``removed``, ``deleted``, ``Remove the VM x``;
  boot: ``starts on boot``, ``start at boot``, ``autostart``, ``not on boot``;
- placement: ``on node pve1``, ``with ID 120``, ``in pool infra``, ``tagged a and b``;
- network (net0, or ``Its network net1 is ...``): ``on bridge vmbr1``, ``connected to
  vmbr1``, ``on VLAN 30``, ``the static IP 10.0.0.5/24``, ``gateway 10.0.0.1``,
  ``DHCP``, ``no IP address``, ``with the firewall enabled``, ``no firewall``,
  ``no network``;
- source: ``cloned from the template ubuntu-24.04``, ``booting from the ISO
  local:iso/x.iso``, ``from the template local:vztmpl/x.tar.zst``;
- text: ``described as "..."``, ``Authorize the SSH key "ssh-ed25519 AAAA... me@host"``
  (quoted, with ``\"`` escapes).
- the whole guest (docs/declarations.md lists every form): ``2 sockets of 4 cores of type
  host``, ``the aes CPU flag``, ``NUMA``, ``ballooning down to 8 GB``, ``a Windows 11 VM
  with UEFI and a TPM``, ``the q35 machine``, disk options (``with discard and SSD
  emulation``, ``excluded from backups``), ``attach the ISO debian-12.iso as a CD-ROM``,
  ``boot from scsi0, then the network``, ``PCI passthrough of the mapping gpu0``, NIC
  options (``model e1000``, ``MTU 9000``, ``IPv6 via SLAAC``), ``two network cards: ...``,
  cloud-init and DNS, ``enable the QEMU guest agent``, ``protect it from deletion``,
  ``startup order 2``, containers (``unprivileged``, ``nesting``, mount points, bind
  mounts, ``time zone``). Each phrase states exactly what it names, nothing more.

Context: ``it``/``they`` refer to the last subject of the same paragraph or list item,
or to the guest a heading above names (``## db-1`` / ``A VM with 4 cores.``).
A guest is declared once per file (``web-1 is a VM``, ``a VM named web-1``); other
sentences may add to it, and two different values for one field are an error naming
both lines. A guest must say what it is (VM or container) unless it should not exist.

How the code is split (each module says why): :mod:`.markdown` (the declaration text in a
file), :mod:`.tokens` (tokenizer, cursor), :mod:`.dispatch` (which phrases are tried at a
word), :mod:`.lexicon` (the words), :mod:`.quantities`
(numbers, sizes), :mod:`.names` (guest names), :mod:`.drafts` and :mod:`.assemble` (what
the sentences say about each guest), :mod:`.hardware`, :mod:`.diskopts`, :mod:`.networking`,
:mod:`.nicopts`, :mod:`.machine`, :mod:`.devices`, :mod:`.guestopts` (with the readers of
:mod:`.toggles`) and :mod:`.phrases` (the attribute phrases), :mod:`.subjects` (whom a
sentence is about), :mod:`.sentences` (clauses and unplaced words), :mod:`.places`
(a bare ``on pve3``, read through the cluster's names the caller passes), :mod:`.leadins`
(a list under ``Get rid of these:``, prose under a heading that names a guest),
:mod:`.headings` (what a heading means: a name, a lead-in, a setting, a title, or an
error), :mod:`.openers` (``Please``, ``Could you``, ``thanks``), :mod:`.idioms` (idioms
read as the words they mean, trailing reasons dropped by shape), :mod:`.objects` (noun
phrases around a name, the guest an imperative acts on), :mod:`.english` (plain English
never offered as a typo), :mod:`.context` (a clause that explains or comments, dropped
by one rule and reported), :mod:`.timing` (``for now`` on power: not scheduled),
:mod:`.boots` (``when the server boots`` is on boot), :mod:`.mail` (headers, quotes and
signatures of an e-mail), :mod:`.forms` (a request form's ``Key: value`` lines),
:mod:`.shellnotes` (a ``# ...`` line alone that is a declaration), round 8's sentence
classes: :mod:`.politeness` (apologies, softeners, ``We humbly request that``, ``Is
necessary to``, ``We would be grateful if``), :mod:`.phrasings` (second-language grammar,
verbs, SMS shorthand, ``one (1) VM``), :mod:`.keeping` (``stop x but dont delete it``,
``may delete later`` beside a stop), :mod:`.purposed` (``a vm for the new pos called x``),
:mod:`.document` (a
file's text, block by block, to a ClusterSpec; ``compile_text(ignored=...)`` collects
what was read and not used, ``ignored as context: '...'``). Each sentence passes
:func:`.openers.strip_courtesy`,
:func:`.idioms.normalize`, :func:`.idioms.drop_asides` and :func:`.objects.rewrite`
before it is parsed; each of them changes only what its explicit lists name.

Why a sub-package: the modules share their helpers (the cursor, the sentence error, the
number readers ...), and those shared names are public here; a leading underscore means
"used by this module only". Nothing outside this package belongs to the grammar but
:mod:`mycopod.spec` (the output model) and :mod:`mycopod.declarations.errors` (the error
text), so :func:`mycopod.declarations.pipeline.grammar_version` hashes exactly these
and an edit elsewhere keeps cached compiles. Pure: no I/O library is imported here (a
test reads the imports). This ``__init__`` re-exports the entry points (``__all__``):
callers write ``from mycopod.declarations import grammar; grammar.compile_text(...)``.
"""

from __future__ import annotations

from mycopod.declarations.errors import CompileError, CompileIssue
from mycopod.declarations.grammar.document import compile_text, count_sentences
from mycopod.declarations.grammar.drafts import assign_slots
from mycopod.declarations.grammar.lexicon import VOCABULARY
from mycopod.declarations.grammar.names import MAX_NAMES, is_plain_word, is_subject_name
from mycopod.declarations.grammar.places import Places
from mycopod.declarations.grammar.sentences import MAX_ISSUES
from mycopod.declarations.grammar.tokens import tokenize

__all__ = ["MAX_ISSUES", "MAX_NAMES", "VOCABULARY", "CompileError", "CompileIssue", "Places",
           "assign_slots", "compile_text", "count_sentences", "is_plain_word",
           "is_subject_name", "tokenize"]
