"""The project's own error types.

Library exceptions are wrapped at the boundary into these, so the CLI and the API can
show one clear line that says what went wrong and how to fix it, without a traceback.
"""

from __future__ import annotations


class MycoPodError(Exception):
    """A failure the user can act on. ``str(exc)`` is the one line shown to them."""

    exit_code = 1


class UsageError(MycoPodError):
    """The command line was wrong (exit code 2)."""

    exit_code = 2


class ConfigError(MycoPodError):
    """The configuration is invalid; the message names the key."""


class DatabaseError(MycoPodError):
    """PostgreSQL is unreachable or refused an operation."""


class MigrationError(DatabaseError):
    """A migration could not be applied or its file no longer matches the database."""
