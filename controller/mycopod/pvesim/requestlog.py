"""An opt-in log of the requests the simulator answered, one JSON object a line.

``mycopod sim --request-log FILE`` appends, for every call under ``/api2/json``, its
method, path, status and, when the answer is a task, its UPID. Tests read it to check
what a controller really asked of the cluster, e.g. that each action's call was made
exactly once across replicas. Lines are written and flushed one at a time, so a reader
sees every answered request."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO


class RequestLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO = open(path, "a", encoding="utf-8")

    def record(self, method: str, path: str, status: int, data: Any = None) -> None:
        entry: dict[str, Any] = {"t": round(time.time(), 6), "method": method, "path": path,
                                 "status": status}
        if isinstance(data, str) and data.startswith("UPID:"):
            entry["upid"] = data
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read(path: Path) -> list[dict[str, Any]]:
    """The entries of a request log written by :class:`RequestLog`."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


__all__ = ["RequestLog", "read"]
