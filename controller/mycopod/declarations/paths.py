"""Which paths of the declarations repository are declaration files.

A path glob from ``declarations.glob`` (``**/`` any number of folders, ``*`` within
one) turned into a regex, and the rule that a README is never a declaration. Pure; used
by the git source and by ``POST /declarations`` to check a submitted path.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

__all__ = ["glob_regex", "is_declaration"]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a path glob: ``**/`` is any number of folders, ``*`` stays in one."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    out.append("$")
    return re.compile("".join(out))


def is_declaration(path: str, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.match(path)) and PurePosixPath(path).name.lower() != "readme.md"
