"""``mycopod doctor``: a configuration checked against the world, one line per check.

Each check is an async function that returns :class:`~.report.Finding` values (ok, warn or
fail, with what to do); :mod:`.run` runs them in order, later ones seeing what earlier
ones found (no token checks when Proxmox is unreachable). The checks talk to the real
things a daemon would use (the database, the Proxmox API, the git remote, the LLM) but
change nothing: no migration is applied, no guest touched, the repository is fetched
into a temporary folder.

- :mod:`.report`: findings, their text and JSON forms, the exit code;
- :mod:`.local`: settings and secrets, the database, the repository, the webhook, the LLM;
- :mod:`.proxmox`: reachability and TLS, the token, its privileges, the clocks, and what
  the current declarations name (nodes, storages, bridges, pools, templates, ISOs).
"""
