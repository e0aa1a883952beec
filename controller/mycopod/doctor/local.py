"""The checks that need no Proxmox: settings and secrets, database, repository, webhook, LLM."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import stat
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from mycopod.config import GROUPS, Settings, load_settings
from mycopod.doctor.report import Finding, fail, ok, warn
from mycopod.errors import MycoPodError
from mycopod.spec import ClusterSpec


def check_config(path: str | None) -> tuple[list[Finding], Settings | None]:
    """The settings load (every secret file present and 0600), and no secret sits inline
    in a file others can read."""
    try:
        settings = load_settings(path)
    except MycoPodError as exc:
        return [fail("config", str(exc), "correct the named key (mycopod.example.toml "
                     "lists every key with its default)")], None
    where = path or os.environ.get("MYCOPOD_CONFIG")
    found = [ok("config", f"settings from {where or 'defaults and the environment'} load")]
    if where:
        mode = stat.S_IMODE(Path(where).stat().st_mode)
        data = tomllib.loads(Path(where).read_text(encoding="utf-8"))
        inline = [f"{group}.{key}" for group, model in GROUPS.items()
                  for key in model._secrets
                  if isinstance(data.get(group), dict) and data[group].get(key)]
        inline += _inline_in_clusters(data)
        if inline and mode & 0o077:
            found.append(fail("config.secrets", f"{', '.join(inline)} inline in {where}, which "
                              f"others can read (mode {mode:04o})",
                              f"move them to credential files, or chmod 600 {where}"))
        elif inline:
            found.append(warn("config.secrets", f"{', '.join(inline)} inline in {where}",
                              "prefer <key>_file settings or systemd credentials"))
    if settings.clusters:
        return found, settings  # each cluster's Proxmox and repository: doctor.clusters
    if not settings.proxmox.url:
        found.append(fail("config.proxmox", "proxmox.url is not set",
                          "set [proxmox] url, token_id and the proxmox_token_secret "
                          "credential (mycopod init does it)"))
    if not settings.declarations.repo:
        found.append(fail("config.declarations", "declarations.repo is not set",
                          "set [declarations] repo to the repository's URL or path"))
    return found, settings


def _inline_in_clusters(data: dict[str, Any]) -> list[str]:
    """The secrets written inline in ``[[clusters]]`` entries: clusters.site-b.token."""
    from mycopod.config_clusters import ClusterForgeSettings, ClusterSettings, ProxmoxSettings

    found = []
    for entry in data.get("clusters") or []:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name", "?")
        tables: list[tuple[str, Any, tuple[str, ...]]] = [
            ("", entry, ClusterSettings._secrets),
            ("proxmox.", entry.get("proxmox"), ProxmoxSettings._secrets),
            ("forge.", entry.get("forge"), ClusterForgeSettings._secrets)]
        found += [f"clusters.{name}.{prefix}{key}" for prefix, table, keys in tables
                  if isinstance(table, dict) for key in keys if table.get(key)]
    return found


async def check_database(settings: Settings) -> list[Finding]:
    """Reachable, migrated (nothing pending, nothing changed) and writable."""
    from mycopod.store import db, migrate

    try:
        async with db.open_database(settings.database, state_dir=settings.state_dir,
                                    min_size=1, max_size=1) as database:
            async with database.pool.acquire() as conn:
                found = [ok("database", "reachable")]
                if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
                    return [*found, fail("database.migrated", "the database is not migrated "
                                         "(no schema_migrations table)", "run: mycopod migrate up")]
                states = await migrate.status(conn)
                pending = [f"{s.version:04d}_{s.name}" for s in states if s.state == "pending"]
                odd = [f"{s.version:04d}_{s.name} ({s.state})" for s in states
                       if s.state in ("changed", "missing")]
                if pending:
                    found.append(fail("database.migrated", f"the database is not migrated: "
                                      f"{len(pending)} pending ({', '.join(pending)})",
                                      "run: mycopod migrate up"))
                elif odd:
                    found.append(fail("database.migrated", f"migrations differ from this "
                                      f"version's: {', '.join(odd)}",
                                      "run the MycoPod version that applied them, or restore"))
                else:
                    found.append(ok("database.migrated", f"{len(states)} migrations applied"))
                found.append(await _writable(conn))
                return found
    except MycoPodError as exc:
        return [fail("database", str(exc), "check [database] url and the database_password "
                     "credential; an unset url uses the embedded PostgreSQL in state_dir")]
    except OSError as exc:
        return [fail("database", f"cannot connect: {exc}", "is PostgreSQL running?")]


async def _writable(conn: object) -> Finding:
    import asyncpg

    assert isinstance(conn, asyncpg.Connection)
    if await conn.fetchval("SELECT pg_is_in_recovery()"):
        return fail("database.writable", "the server is a read-only standby",
                    "point [database] url at the primary")
    try:
        async with conn.transaction():
            await conn.execute("CREATE TEMPORARY TABLE mycopod_doctor (x int) ON COMMIT DROP")
            await conn.execute("INSERT INTO mycopod_doctor VALUES (1)")
        can = await conn.fetchval(
            "SELECT has_table_privilege('schema_migrations', 'INSERT, UPDATE, DELETE')")
    except asyncpg.PostgresError as exc:
        return fail("database.writable", f"cannot write: {exc}",
                    "grant the user write access to its database")
    if not can:
        return fail("database.writable", "the user may not write MycoPod's tables",
                    "connect as the database's owner")
    return ok("database.writable", "writable")


async def check_repository(settings: Settings) -> tuple[list[Finding], dict[str, str] | None]:
    """The repository answers and the branch exists; the declaration files of its head."""
    from mycopod.declarations.source import GitSource

    dec = settings.declarations
    if not dec.repo:
        return [], None
    with tempfile.TemporaryDirectory(prefix="mycopod-doctor-") as scratch:
        try:
            source = GitSource(dec, state_dir=Path(scratch))
            head = await asyncio.to_thread(source.fetch)
            files = await asyncio.to_thread(source.files_at, head)
        except MycoPodError as exc:
            return [fail("repository", str(exc), "check [declarations] repo, branch and the "
                         "declarations_token credential; try: git ls-remote REPO")], None
    return [ok("repository", f"branch {dec.branch!r} at {head[:12]}, "
               f"{len(files)} declaration file(s)")], files


async def compile_head(settings: Settings,
                       files: dict[str, str]) -> tuple[list[Finding], ClusterSpec | None]:
    from mycopod.declarations.compiler import compile_files

    try:
        spec = await compile_files(files, llm=settings.llm,
                                   max_guests=settings.declarations.max_guests,
                                   facts=await _cluster_facts(settings))
    except MycoPodError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [fail("declarations", f"the branch head does not compile: {first}",
                     "mycopod compile FILE shows every problem")], None
    return [ok("declarations", f"compile: {len(spec.guests)} guest(s)")], spec


async def _cluster_facts(settings: Settings) -> Any:
    """The cluster's names, so a bare "on pve3" compiles here as in the daemon; None
    without a cluster or when it does not answer (the Proxmox checks say why)."""
    if not settings.proxmox.url:
        return None
    from mycopod.proxmox import cluster_facts
    from mycopod.proxmox.client import ProxmoxClient

    try:
        client = ProxmoxClient.from_settings(settings.proxmox, retries=1)
    except MycoPodError:
        return None
    try:
        return await cluster_facts.read(client)
    except Exception:
        return None
    finally:
        await client.aclose()


def _public(host: str) -> bool:
    if host in ("localhost", ""):
        return host == ""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def check_webhook(settings: Settings) -> list[Finding]:
    api = settings.api
    public = _public(api.host) or bool(api.trusted_proxies)
    if settings.declarations.webhook_secret is not None:
        return [ok("webhook", "the webhook secret is set")]
    if public:
        return [fail("webhook", f"the API is reachable from other machines ({api.host}"
                     f"{', behind a proxy' if api.trusted_proxies else ''}) and no webhook "
                     "secret is set", "write a random declarations_webhook_secret credential "
                     "(openssl rand -hex 32) and give the same secret to the git host")]
    return [ok("webhook", "the API listens on loopback only (no webhook secret needed)")]


async def check_llm(settings: Settings) -> list[Finding]:
    llm = settings.llm
    if not llm.model:
        return [ok("llm", "not configured (the grammar alone compiles declarations)")]
    import litellm

    try:
        answer = await asyncio.wait_for(litellm.acompletion(
            model=llm.model, api_base=llm.api_base,
            api_key=llm.api_key.get_secret_value() if llm.api_key else None,
            messages=[{"role": "user", "content": "Answer with the single word: ok"}],
            max_tokens=5), timeout=llm.timeout)
        text = answer.choices[0].message.content or ""
    except Exception as exc:  # litellm raises many kinds; each is a failed check
        return [fail("llm", f"{llm.model} does not answer: {type(exc).__name__}: "
                     f"{str(exc)[:200]}", "check [llm] model, api_base and the llm_api_key "
                     "credential")]
    return [ok("llm", f"{llm.model} answers ({text.strip()[:20]!r})")]
