"""Merging the specs of a commit's files into one, with the cross-file checks.

The spec of a commit is the union of its files' specs (DESIGN.md, "Declarations"). A
name declared in two files is an error naming both files, and so is one explicit ID
asked for by two guests of different files: a silent "last file wins" would be a guess.
More guests in all than ``max_guests`` (the setting ``declarations.max_guests``) is a
:class:`~mycopod.declarations.errors.GuestLimitError` naming the count. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from mycopod import spec as specmod
from mycopod.declarations.errors import (
    CompileError,
    CompileIssue,
    GuestLimitError,
    guest_limit_message,
)

__all__ = ["merge"]


def merge(specs: Mapping[str, specmod.ClusterSpec], *,
          max_guests: int | None = None) -> specmod.ClusterSpec:
    """One ClusterSpec from per-file specs (path -> spec); raise CompileError on clashes."""
    count = sum(len(spec.guests) for spec in specs.values())
    if max_guests is not None and count > max_guests:
        largest = max(specs, key=lambda p: len(specs[p].guests))
        raise GuestLimitError.single(
            largest, 0, guest_limit_message(count, max_guests)
            + f" ({len(specs[largest].guests)} of them in this file)")
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
