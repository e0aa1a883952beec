"""A Proxmox VE 9 API simulator: MycoPod's demo backend and the test double behind its
end-to-end tests and benchmarks.

It serves ``/api2/json`` as PVE does, for the paths, methods and parameters of the
real schema (``data/pve-api-schema.json``): tickets and API tokens, the ``{"data": ...}``
envelope with errors as reason phrases, parameter checks with PVE's messages, worker
tasks with UPIDs, locks, digests, pending changes, storage accounting, and injected
faults. Run it with ``mycopod sim``; in tests use
``mycopod.pvesim.testing.running_simulator``.

Modules: ``schema`` (the API description and parameter checks), ``state`` (the cluster
model, in memory), ``persistence`` (the state file), ``guests`` (guest lookups, checks and
config updates), ``views`` (configs and status as clients read them), ``lifecycle``
(create, clone, template, destroy), ``operations`` (power, resize, migrate), ``hotplug``
(what a running guest takes at once), ``disks`` (allocating ``STORAGE:SIZE`` disks),
``capacity`` (thin and thick provisioning), ``propstr`` (property strings as PVE prints
them), ``resources`` (the cached ``/cluster/resources``),
``tasks``, ``auth``, ``faults``, ``routes``, ``api``, ``api_cluster`` and ``api_nodes``
(the route table and its handlers), ``app`` (the aiohttp dispatcher), ``server`` (TLS,
site, state file), ``cli``; for tests and benchmarks, ``testing`` (a simulator in a
thread) and ``direct`` (read and fill the cluster past the API).
"""
