"""What the cluster has, as the compilers need to know it: ``ClusterFacts``.

The LLM is told the cluster's nodes, storages (with their content types), bridges, VM
templates, ISO volumes and LXC template volumes, so it names things that exist; its
answer is then checked against the same facts (:func:`check`), because an LLM that
invents a storage must give an error, not a failed create later. The reconcile engine
builds a ``ClusterFacts`` from observed state. Pure.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mycopod import spec as specmod
from mycopod.declarations import grammar

__all__ = ["ClusterFacts", "StorageFact", "check", "places"]


class StorageFact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    #: Proxmox content types: images, rootdir, iso, vztmpl, backup, snippets
    content: list[str] = Field(default_factory=list)


class ClusterFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: list[str] = Field(default_factory=list)
    storages: list[StorageFact] = Field(default_factory=list)
    bridges: list[str] = Field(default_factory=list)
    #: names of QEMU templates (what ``cloned from the template X`` may name)
    templates: list[str] = Field(default_factory=list)
    #: ISO volumes, ``local:iso/debian-12.iso``
    isos: list[str] = Field(default_factory=list)
    #: LXC template volumes, ``local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst``
    ostemplates: list[str] = Field(default_factory=list)
    #: resource pools (what ``in pool X``, or a bare ``on X``, may name)
    pools: list[str] = Field(default_factory=list)

    def storage_names(self, content: str | None = None) -> list[str]:
        return [s.name for s in self.storages if content is None or content in s.content
                or not s.content]


def places(facts: ClusterFacts | None) -> grammar.Places | None:
    """The names the grammar reads a bare ``on pve3`` with; None when nothing is known."""
    if facts is None or not (facts.nodes or facts.storages or facts.bridges or facts.pools):
        return None
    return grammar.Places(nodes=frozenset(facts.nodes),
                          storages=frozenset(s.name for s in facts.storages),
                          bridges=frozenset(facts.bridges), pools=frozenset(facts.pools))


def check(spec: specmod.ClusterSpec, facts: ClusterFacts) -> list[str]:
    """Problems of ``spec`` against the cluster (empty when it only names what exists).

    Lists of facts that are empty are not checked (nothing is known about them).
    """
    problems: list[str] = []
    for guest in spec.guests:
        if guest.state == "absent":
            continue
        where = f"guest {guest.name!r}"
        if facts.nodes and guest.node is not None and guest.node not in facts.nodes:
            problems.append(f"{where}: node {guest.node!r} does not exist (nodes: "
                            f"{', '.join(facts.nodes)})")
        if facts.storages:
            content = "images" if guest.kind == "vm" else "rootdir"
            usable = facts.storage_names(content)
            for disk in guest.disks:
                if disk.storage not in usable:
                    problems.append(
                        f"{where}: storage {disk.storage!r} does not exist or cannot hold "
                        f"{'VM disks' if guest.kind == 'vm' else 'container volumes'} "
                        f"(usable: {', '.join(usable) or 'none'})")
        if facts.bridges:
            for net in guest.networks:
                if net.bridge not in facts.bridges:
                    problems.append(f"{where}: bridge {net.bridge!r} does not exist (bridges: "
                                    f"{', '.join(facts.bridges)})")
        source = guest.source
        if source is not None:
            if source.clone is not None and facts.templates and \
                    source.clone not in facts.templates:
                problems.append(f"{where}: template {source.clone!r} does not exist "
                                f"(templates: {', '.join(facts.templates)})")
            if source.iso is not None and facts.isos and source.iso not in facts.isos:
                problems.append(f"{where}: ISO {source.iso!r} does not exist")
            if source.ostemplate is not None and facts.ostemplates and \
                    source.ostemplate not in facts.ostemplates:
                problems.append(f"{where}: LXC template {source.ostemplate!r} does not exist")
    return problems
