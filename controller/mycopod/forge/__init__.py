"""Closing the loop on git: the forge (GitHub, Gitea/Forgejo) hears what MycoPod did.

- :mod:`.models`: typed request, response and webhook payload shapes (pure);
- :mod:`.client`: the HTTP adapter (aiohttp), with rate-limit and 5xx backoff;
- :mod:`.statuses`: which commit status a compile or a run gives (pure);
- :mod:`.reporter`: the bounded queue that sends them off the reconcile path;
- :mod:`.comment` (pure) and :mod:`.pr_plans`: the plan of a pull request, as a comment.
"""
