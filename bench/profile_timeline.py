"""What a replica's event loop did, second by second: reads a py-spy speedscope profile
(``bench/scaleout.py --profile-seconds N --keep``, sampled with ``--idle`` at 100 Hz, so
the main thread's samples are in time order, 10 ms apart while py-spy keeps up: on a
loaded machine it falls behind and the times stretch) and prints, per window, how
much of it the loop was busy and the tasks it was busy with, then the top functions.

Usage: ``python bench/profile_timeline.py PROFILE.json [--window 1.0] [--top 25]``
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

IDLE = ("EpollSelector.select", "select (selectors.py")


def frame_name(frame: dict[str, Any]) -> str:
    file = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", str(frame.get("file", "")))
    file = re.sub(r".*/controller/", "", file)
    return f"{frame['name']} ({file})"


def task_of(stack: list[str]) -> str:
    """The frames under the event loop's ``Handle._run``: which task ran."""
    runs = [i for i, f in enumerate(stack) if f.startswith("Handle._run")]
    if not runs:
        return stack[-1] if stack else "?"
    below = stack[runs[-1] + 1:runs[-1] + 3]
    return " > ".join(below) or stack[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    data = json.loads(args.profile.read_text())
    frames = [frame_name(f) for f in data["shared"]["frames"]]
    main_profile = next(p for p in data["profiles"] if "MainThread" in p["name"])
    per = int(args.window * args.rate)
    samples = [[frames[i] for i in s] for s in main_profile["samples"]]
    busy_total = 0
    inclusive: Counter[str] = Counter()
    for start in range(0, len(samples), per):
        window = samples[start:start + per]
        # idle: waiting in select(); a stack of no frames: the process has ended
        busy = [s for s in window
                if len(s) > 1 and not any(f.startswith(IDLE) for f in s[-3:])]
        busy_total += len(busy)
        tasks = Counter(task_of(s) for s in busy)
        top = "; ".join(f"{n / args.rate:.2f}s {t}" for t, n in tasks.most_common(3))
        print(f"{start / args.rate:5.1f}s busy {len(busy) / max(1, len(window)):4.0%}  {top}")
        for s in busy:
            inclusive.update(set(s))
    print(f"busy in all: {busy_total / args.rate:.2f} s of {len(samples) / args.rate:.2f} s")
    for name, n in inclusive.most_common(args.top * 4):
        if "mycopod/" in name or "json" in name:
            print(f"{n / args.rate:6.2f} s  {name}")


if __name__ == "__main__":
    main()
