"""Declarations of unknown words: what the compile-cost attack of issue 18 posted.

Used by the API's compile-limit tests and by ``bench/api.py``'s /health figure.
"""

from __future__ import annotations

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua").split()


def junk(size: int = 256 * 1024, seed: int = 0) -> str:
    """A sentence of ``size`` bytes at most of unknown words, none repeated (nothing to
    cache); different seeds give different texts."""
    words: list[str] = []
    total = 0
    while True:
        word = f"{WORDS[(len(words) + seed) % len(WORDS)]}{seed}x{len(words)}"
        if total + len(word) + 1 > size:
            break
        words.append(word)
        total += len(word) + 1
    return " ".join(words)
