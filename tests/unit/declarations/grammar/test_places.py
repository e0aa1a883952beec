"""A bare ``on NAME`` is read through the cluster's names (issue 13), never guessed."""

from __future__ import annotations

import pytest

from mycopod import spec as specmod
from mycopod.declarations import facts as factsmod
from mycopod.declarations import grammar
from mycopod.declarations.workers import compile_in_process

PLACES = grammar.Places(nodes=frozenset({"pve1", "pve3"}),
                        storages=frozenset({"local-lvm", "tank"}),
                        bridges=frozenset({"vmbr2"}), pools=frozenset({"infra", "tank"}))


def _guest(text: str, places: grammar.Places | None = PLACES) -> dict[str, object]:
    guests = specmod.spec_dict(grammar.compile_text(text, places=places))["guests"]
    assert len(guests) == 1
    return dict(guests[0])


@pytest.mark.parametrize(("text", "field", "value"), [
    ("db-1 is a VM on pve3.", "node", "pve3"),
    ("We also need a database server: db-1, a VM with 4 vCPUs, 8 gigs of RAM and a 100G "
     "disk on local-lvm, on pve3.", "node", "pve3"),
    ("db-1 is a VM on vmbr2.", "networks", [{"slot": "net0", "bridge": "vmbr2"}]),
    ("db-1 is a VM on infra.", "pool", "infra"),
    ("db-1 is a VM with 2 cores on local-lvm.", "disks",
     [{"slot": "scsi0", "storage": "local-lvm"}]),
])
def test_a_known_name_is_read_as_what_it_is(text: str, field: str, value: object) -> None:
    assert _guest(text)[field] == value


@pytest.mark.parametrize(("text", "message"), [
    ("db-1 is a VM on tank.", "\"on tank\" is ambiguous: tank is a storage and a pool of "
                              "this cluster; write 'on storage tank' or 'in pool tank'"),
    ("db-1 is a VM on pve9.", "no node, storage, bridge or pool named 'pve9' (nodes: pve1, "
                              "pve3; storages: local-lvm, tank; bridges: vmbr2; pools: "
                              "infra, tank)"),
])
def test_ambiguous_or_unknown_is_an_error_listing_the_candidates(text: str,
                                                                 message: str) -> None:
    with pytest.raises(grammar.CompileError) as info:
        grammar.compile_text(text, places=PLACES)
    assert message in str(info.value)


def test_without_the_clusters_names_a_bare_on_stays_refused() -> None:
    with pytest.raises(grammar.CompileError, match="could not understand \"on pve3\""):
        grammar.compile_text("db-1 is a VM on pve3.")


def test_explicit_words_win_over_the_names() -> None:
    # "tank" is ambiguous, but "on storage tank" and "a disk on tank" say what it is
    assert _guest("db-1 is a VM on storage tank.")["disks"] == [
        {"slot": "scsi0", "storage": "tank"}]
    assert _guest("db-1 is a VM with a disk on tank.")["disks"] == [
        {"slot": "scsi0", "storage": "tank"}]


def test_the_facts_give_the_places_and_the_pipeline_passes_them() -> None:
    facts = factsmod.ClusterFacts(nodes=["pve3"], storages=[factsmod.StorageFact(name="tank")],
                                  bridges=["vmbr0"], pools=["infra"])
    places = factsmod.places(facts)
    assert places == grammar.Places(nodes=frozenset({"pve3"}), storages=frozenset({"tank"}),
                                    bridges=frozenset({"vmbr0"}), pools=frozenset({"infra"}))
    assert factsmod.places(None) is None
    assert factsmod.places(factsmod.ClusterFacts()) is None
    out = compile_in_process({"a.md": "db-1 is a VM on pve3.\n"}, places=places)
    spec = out["a.md"]
    assert isinstance(spec, specmod.ClusterSpec) and spec.guests[0].node == "pve3"


def test_running_on_a_name_the_cluster_knows_is_read_as_what_it_is() -> None:
    assert _guest("db-1 is a VM running on pve3.")["node"] == "pve3"
    assert _guest("db-1 is a VM running on vmbr2.")["networks"] == [
        {"slot": "net0", "bridge": "vmbr2"}]
    with pytest.raises(grammar.CompileError) as info:
        grammar.compile_text("db-1 is a VM with 2 cores, running on pve9.", places=PLACES)
    assert "no node, storage, bridge or pool named 'pve9' (nodes: pve1, pve3;" in str(
        info.value)
    # without the cluster's names, "running on" still names a node, as it always did
    assert _guest("db-1 is a VM running on pve9.", places=None)["node"] == "pve9"
    # and "on node" says it whatever the names are (the planner checks it exists)
    assert _guest("db-1 is a VM on node pve9.")["node"] == "pve9"
