"""The small logistic models of the default answerer (evidence, reader, abstention): a
weight per named feature and an intercept, stored as JSON in qa/weights/ and written by
the train.fit_* scripts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LinearModel:
    coef: np.ndarray
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.score(x)))


@lru_cache(maxsize=16)
def load_linear(path: Path, features: tuple[str, ...]) -> LinearModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != features:
        raise ValueError(f"{path} was fitted on other features: refit it (python -m train.fit_*)")
    return LinearModel(np.array(data["coef"], dtype=np.float64), float(data["intercept"]))


def write_weights(
    path: Path, features: tuple[str, ...], coef: np.ndarray, intercept: float, **info
) -> None:
    """What the fit scripts write: the features, their weights, and how they were fitted."""
    data = {
        "features": list(features),
        "coef": [round(float(c), 6) for c in coef],
        "intercept": round(float(intercept), 6),
        **info,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
