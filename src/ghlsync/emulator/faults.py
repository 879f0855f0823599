"""Faults on demand: a seeded draw per request so a run replays exactly.

Each HighLevel-surface request draws one number from ``random.Random(seed)``; the faults'
probabilities are laid end to end on ``[0, 1)`` and the one the number falls in (if any) hits.
The same seed, fault spec and request sequence give the same faults.
"""

from __future__ import annotations

import random

from ghlsync.emulator.settings import Fault


class FaultInjector:
    def __init__(self, faults: list[Fault], seed: int = 0) -> None:
        self.faults = list(faults)
        self.seed = seed
        self.rng = random.Random(f"faults:{seed}")
        self.injected: dict[str, int] = {}

    def configure(self, faults: list[Fault], seed: int | None = None) -> None:
        """Replace the faults; a given ``seed`` restarts the sequence (replay from here)."""
        self.faults = list(faults)
        if seed is not None:
            self.seed = seed
            self.rng = random.Random(f"faults:{seed}")

    def draw(self) -> Fault | None:
        if not self.faults:
            return None
        roll = self.rng.random()
        edge = 0.0
        for fault in self.faults:
            edge += fault.probability
            if roll < edge:
                self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
                return fault
        return None
