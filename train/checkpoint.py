"""Training that survives being stopped: the model, optimiser, schedule and where the run
was, saved every few minutes (written aside, then renamed over the last one, so a kill
mid-save leaves the previous checkpoint); the same command then continues from it."""

from __future__ import annotations

import time
from pathlib import Path

from qa.errors import QAError

CHECKPOINT = "checkpoint.pt"


class Interrupted(QAError):
    """Training stopped before its last step (``--stop-after``); the checkpoint holds it."""


class Checkpoint:
    def __init__(self, folder: Path, every_minutes: float) -> None:
        self.path = folder / CHECKPOINT
        self.every = every_minutes * 60
        self.saved = time.monotonic()

    def resume(self, model, optimizer, schedule) -> dict | None:
        """Load the saved state into these, and return where the run was (or None)."""
        if not self.path.is_file():
            return None
        import torch

        state = torch.load(self.path, weights_only=False)
        model.load_state_dict(state.pop("model"))
        optimizer.load_state_dict(state.pop("optimizer"))
        schedule.load_state_dict(state.pop("schedule"))
        return state

    def due(self) -> bool:
        return time.monotonic() - self.saved > self.every

    def save(self, model, optimizer, schedule, **where) -> None:
        import torch

        self.path.parent.mkdir(parents=True, exist_ok=True)
        aside = self.path.with_suffix(".tmp")
        torch.save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "schedule": schedule.state_dict(), **where},
            aside,
        )  # fmt: skip
        aside.replace(self.path)
        self.saved = time.monotonic()

    def remove(self) -> None:
        """Once the model is written: the next run with this folder starts afresh."""
        self.path.unlink(missing_ok=True)
