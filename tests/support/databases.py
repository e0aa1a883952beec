"""The tests' databases: each test gets a migrated database of its own, recycled.

A fresh database cloned from the migrated template (``CREATE DATABASE ... TEMPLATE``)
costs 0.15-0.3 s and its ``DROP`` another 0.02-0.05 s; the ~370 tests that ask for one
spent a minute or two of the suite's run on that alone. So a test's database, once the
test is done with it, is put back as the template left it and handed to the next test:

- it is recycled only when nothing is connected to it any more (the test's pools and the
  daemons it started are gone) and its schema is the template's (:data:`FINGERPRINT`:
  every table, column, default, constraint, index, sequence, function, trigger, policy,
  type, schema and extension, with their privileges and database settings); otherwise it
  is dropped as before;
- every table the test wrote to is emptied (``TRUNCATE``), the rows the migrations wrote
  (``roles``, ``schema_migrations``) are put back as the template has them, and every
  sequence is set to where the template's stands;
- it is renamed when handed out again, so a process a test left behind with the old URL
  cannot reach the next test's database.

A test therefore sees exactly what a clone of the template shows it: the same schema,
the same rows, the same next ids.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

#: user-made objects (oid >= FirstNormalObjectId) of the current database, as one digest
FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT format('class %s.%s %s %s %s %s %s', n.nspname, c.relname, c.relkind,
                  c.relpersistence, c.relrowsecurity, c.relacl, c.reloptions)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid >= 16384
    UNION ALL
    SELECT format('column %s %s %s %s %s %s', a.attrelid::regclass, a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attisdropped,
                  a.attnum)
    FROM pg_attribute a WHERE a.attrelid >= 16384 AND a.attnum > 0
    UNION ALL
    SELECT format('default %s %s %s', d.adrelid::regclass, d.adnum,
                  pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attrdef d
    UNION ALL
    SELECT format('constraint %s %s %s', c.conrelid::regclass, c.conname,
                  pg_get_constraintdef(c.oid))
    FROM pg_constraint c WHERE c.oid >= 16384
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i
    WHERE i.indexrelid >= 16384
    UNION ALL
    SELECT format('sequence %s %s %s %s %s %s %s', s.seqrelid::regclass, s.seqtypid,
                  s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcycle)
    FROM pg_sequence s
    UNION ALL
    SELECT format('function %s %s %s', p.oid::regprocedure, md5(p.prosrc), p.proacl)
    FROM pg_proc p WHERE p.oid >= 16384
    UNION ALL
    SELECT format('trigger %s %s %s', t.tgrelid::regclass, t.tgname, t.tgenabled)
    FROM pg_trigger t WHERE t.oid >= 16384
    UNION ALL
    SELECT format('policy %s %s', p.polrelid::regclass, p.polname) FROM pg_policy p
    UNION ALL
    SELECT format('rule %s %s', r.ev_class::regclass, r.rulename) FROM pg_rewrite r
    WHERE r.oid >= 16384
    UNION ALL
    SELECT format('type %s %s', t.typname, t.typnamespace::regnamespace) FROM pg_type t
    WHERE t.oid >= 16384
    UNION ALL
    SELECT format('schema %s %s', n.nspname, n.nspacl) FROM pg_namespace n
    WHERE n.oid >= 16384 OR n.nspname = 'public'
    UNION ALL
    SELECT format('extension %s %s', e.extname, e.extversion) FROM pg_extension e
    UNION ALL
    SELECT format('setting %s %s', s.setrole, s.setconfig) FROM pg_db_role_setting s
    WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL
    SELECT format('large objects %s', count(*)) FROM pg_largeobject_metadata
) AS objects(item)
"""
TABLES = """
SELECT schemaname, tablename, format('%I.%I', schemaname, tablename) FROM pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 3"""
SEQUENCES = """
SELECT quote_literal(format('%I.%I', schemaname, sequencename)), last_value
FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"""
OTHER_SESSIONS = """
SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"""

#: how long a database still in use at a test's end may take to be left (0.5 s)
QUIET_CHECKS = 25
QUIET_INTERVAL = 0.02


def url_for(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def fresh_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


class _Changed(Exception):
    """A table the template fills holds other rows even after the reset."""


@dataclass
class Pristine:
    """What a database cloned from the template holds: its schema's fingerprint, the rows
    of its tables that have any, and where each sequence stands."""

    fingerprint: str
    #: every table, quoted (schema.name)
    tables: list[str]
    #: the tables that have rows: quoted name -> (schema, name, columns, sorted rows)
    rows: dict[str, tuple[str, str, list[str], list[tuple[Any, ...]]]]
    #: one statement setting every sequence where the template's stands
    setvals: str

    @classmethod
    async def read(cls, conn: asyncpg.Connection) -> Pristine:
        tables = await conn.fetch(TABLES)
        rows: dict[str, tuple[str, str, list[str], list[tuple[Any, ...]]]] = {}
        for schema, name, quoted in tables:
            records = await conn.fetch(f"SELECT * FROM {quoted}")  # noqa: S608 - catalog names
            if records:
                rows[quoted] = (schema, name, list(records[0].keys()), _sorted(records))
        sequences = await conn.fetch(SEQUENCES)
        setvals = [
            f"setval({literal}, 1, false)" if last is None
            else f"setval({literal}, {int(last)}, true)"
            for literal, last in sequences]
        return cls(fingerprint=await conn.fetchval(FINGERPRINT),
                   tables=[quoted for *_, quoted in tables], rows=rows,
                   setvals="SELECT " + ", ".join(setvals) if setvals else "SELECT 1")

    async def restore(self, conn: asyncpg.Connection) -> bool:
        """Put the database on ``conn`` back as the template has it; False (and nothing
        changed) when its schema is not the template's."""
        try:
            async with conn.transaction():
                if await conn.fetchval(FINGERPRINT) != self.fingerprint:
                    return False
                changed = await self._changed(conn)
                if changed:
                    # only what the test wrote: TRUNCATE makes new files for each table
                    # and index (~80 ms for every table, a few ms for one or two)
                    await conn.execute(f"TRUNCATE {', '.join(changed)} CASCADE")
                    for quoted, (schema, name, columns, records) in self.rows.items():
                        now = _sorted(await conn.fetch(f"SELECT * FROM {quoted}"))  # noqa: S608
                        if now == records:
                            continue
                        if now:
                            raise _Changed(quoted)
                        await conn.copy_records_to_table(name, schema_name=schema,
                                                         columns=columns, records=records)
                await conn.execute(self.setvals)
        except _Changed:
            return False
        return True

    async def _changed(self, conn: asyncpg.Connection) -> list[str]:
        """The tables whose rows are not the template's."""
        empty = [quoted for quoted in self.tables if quoted not in self.rows]
        changed: list[str] = []
        if empty:
            query = " UNION ALL ".join(
                f"SELECT {n} WHERE EXISTS (SELECT 1 FROM {quoted})"  # noqa: S608
                for n, quoted in enumerate(empty))
            changed = [empty[r[0]] for r in await conn.fetch(query)]
        for quoted, (*_, records) in self.rows.items():
            if _sorted(await conn.fetch(f"SELECT * FROM {quoted}")) != records:  # noqa: S608
                changed.append(quoted)
        return changed


def _sorted(records: list[asyncpg.Record]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in records), key=repr)


@dataclass
class Recycler:
    """Migrated databases on the server at ``admin_url`` for one test each."""

    admin_url: str
    template: str
    pristine: Pristine | None = None
    idle: list[str] = field(default_factory=list)

    async def checkout(self) -> str:
        """A migrated database's name, for one test."""
        name = fresh_name()
        conn = await asyncpg.connect(self.admin_url)
        try:
            if self.pristine is None:
                self.pristine = await self._read_template()
            while self.idle:
                old = self.idle.pop()
                try:
                    await conn.execute(f'ALTER DATABASE "{old}" RENAME TO "{name}"')
                    return name
                except asyncpg.PostgresError:  # something connected to it meanwhile
                    await conn.execute(drop(old))
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            return name
        finally:
            await conn.close()

    async def checkin(self, name: str) -> None:
        """The test is done with ``name``: recycle it if it can be, else drop it."""
        assert self.pristine is not None
        conn = await asyncpg.connect(self.admin_url)
        try:
            if await self._quiet(conn, name) and await self._restore(name):
                self.idle.append(name)
                return
            await conn.execute(drop(name))
        finally:
            await conn.close()

    async def close(self) -> None:
        """Drop the idle databases (the server may outlive the session)."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            for name in self.idle:
                await conn.execute(drop(name))
            self.idle.clear()
        finally:
            await conn.close()

    @staticmethod
    async def _quiet(conn: asyncpg.Connection, name: str) -> bool:
        """Whether nothing else is connected to ``name`` (a backend whose client has just
        closed its connection gets a moment to exit)."""
        for _ in range(QUIET_CHECKS):
            if not await conn.fetchval(OTHER_SESSIONS, name):
                return True
            await asyncio.sleep(QUIET_INTERVAL)
        return False

    async def _read_template(self) -> Pristine:
        conn = await asyncpg.connect(url_for(self.admin_url, self.template))
        try:
            return await Pristine.read(conn)
        finally:
            await conn.close()

    async def _restore(self, name: str) -> bool:
        assert self.pristine is not None
        try:
            conn = await asyncpg.connect(url_for(self.admin_url, name))
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            return await self.pristine.restore(conn)
        except asyncpg.PostgresError:
            return False
        finally:
            await conn.close()
