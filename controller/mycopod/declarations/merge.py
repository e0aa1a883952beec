"""Merging the specs of a commit's files into one, with the cross-file checks.

The spec of a commit is the union of its files' specs (DESIGN.md, "Declarations"). A
name declared in two files is an error naming both files, and so is one explicit ID
asked for by two guests of different files: a silent "last file wins" would be a guess.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from mycopod import spec as specmod
from mycopod.declarations.errors import CompileError, CompileIssue

__all__ = ["merge"]


def merge(specs: Mapping[str, specmod.ClusterSpec]) -> specmod.ClusterSpec:
    """One ClusterSpec from per-file specs (path -> spec); raise CompileError on clashes."""
    owner: dict[str, str] = {}
    vmids: dict[int, tuple[str, str]] = {}
    issues: list[CompileIssue] = []
    guests: list[specmod.GuestSpec] = []
    for path in sorted(specs):
        for guest in specs[path].guests:
            first = owner.get(guest.name)
            if first is not None:
                issues.append(CompileIssue(
                    path, 0, f"{guest.name} is declared twice: in {first} and in {path}"))
                continue
            owner[guest.name] = path
            if guest.vmid is not None:
                other = vmids.get(guest.vmid)
                if other is not None:
                    issues.append(CompileIssue(
                        path, 0, f"ID {guest.vmid} is asked for by {other[0]} (in {other[1]}) "
                        f"and by {guest.name} (in {path})"))
                    continue
                vmids[guest.vmid] = (guest.name, path)
            guests.append(guest)
    if issues:
        raise CompileError(issues)
    return specmod.ClusterSpec(guests=guests)
