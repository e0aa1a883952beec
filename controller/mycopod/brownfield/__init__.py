"""Brownfield: writing an existing cluster down as declarations (``mycopod import``).

:mod:`.files` (pure) groups described guests into Markdown files; :mod:`.importer` reads
the live cluster and writes them; :mod:`.cli` registers the command.
"""
